"""Sans-I/O protocol code: the standard library only, no sockets, no clocks."""
