"""The network: records and interface, spiking layers, encoders, readouts and the discrete-time network."""
