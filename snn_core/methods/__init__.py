"""What each paper adds, through ``hooks``: ASA (``asa``), TRT (``trt``), TTFS (``ttfs``); ``registry`` wires them."""
