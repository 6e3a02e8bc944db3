"""Ways out of and into the engine: trained networks as NIR graphs (``nir_graph`` writes, ``nir_import`` reads)."""
