"""The network: spiking layers, encoders, readouts and the discrete-time network built from a config."""
