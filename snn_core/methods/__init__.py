"""What each paper adds: ASA (``asa``), temporal reversed training (``trt``), TTFS and its exact engine (``ttfs``)."""
