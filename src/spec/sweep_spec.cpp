// Placeholder until the spec parser lands.
