"""ZVT: the open German ECR protocol for semi-integrated card terminals.

PA00P016 (transport: serial framing with DLE stuffing and CRC, or plain APDUs over TCP)
and PA00P015 (commands: APDUs made of BMP fields). The client is the cash register's
side; :mod:`hal.card.zvt.simulator` is the terminal's side, byte for byte the same
protocol, used by `make run`, technicians and the tests.
"""
