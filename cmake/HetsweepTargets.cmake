# How every hetsweep target is declared: its warnings, and for the libraries of src/, the include root that
# lets a target reach only the headers of the layers it links.

option(HETSWEEP_WERROR "Treat compiler warnings as errors (CI turns it on)" OFF)

# The warnings of the project's own sources, per target (the dependencies' headers come in as system headers).
function(hetsweep_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<BOOL:${HETSWEEP_WERROR}>:-Werror>)
endfunction()

# The library hetsweep_<layer> of the sources in src/<layer>/ (the calling folder). Its headers are included
# as "<layer>/name.hpp" through an include root of the build tree that holds a link to that one folder, so a
# target sees the headers of the layers it links (directly, or through their PUBLIC links) and no others: an
# include across a boundary the link graph does not have fails to compile.
function(hetsweep_add_layer layer)
  set(root ${PROJECT_BINARY_DIR}/include/${layer})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${layer} SYMBOLIC)
  add_library(hetsweep_${layer} ${ARGN})
  target_include_directories(hetsweep_${layer} PUBLIC ${root})
  hetsweep_target_warnings(hetsweep_${layer})
  set_property(GLOBAL APPEND PROPERTY HETSWEEP_LAYERS ${layer})
endfunction()

# Refuses, at configure time, a cycle among the layers' libraries (CMake accepts one between static
# libraries): no layer may reach itself through what it links.
function(hetsweep_check_layers_acyclic)
  get_property(layers GLOBAL PROPERTY HETSWEEP_LAYERS)
  foreach(layer IN LISTS layers)
    set(path_to_${layer} hetsweep_${layer})
    set(frontier ${layer})
    set(reached "")
    while(frontier)
      list(POP_FRONT frontier current)
      get_target_property(links hetsweep_${current} LINK_LIBRARIES)
      foreach(link IN LISTS links)
        if(NOT link MATCHES "^hetsweep_(.+)$" OR NOT CMAKE_MATCH_1 IN_LIST layers)
          continue()
        endif()
        set(next ${CMAKE_MATCH_1})
        if(next STREQUAL layer)
          message(FATAL_ERROR "the layers link in a cycle: ${path_to_${current}} -> hetsweep_${layer}")
        endif()
        if(NOT next IN_LIST reached)
          list(APPEND reached ${next})
          list(APPEND frontier ${next})
          set(path_to_${next} "${path_to_${current}} -> hetsweep_${next}")
        endif()
      endforeach()
    endwhile()
  endforeach()
endfunction()
