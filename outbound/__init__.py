"""The outside world: the roles providers play for us (``roles``), one package
per vendor with its real client and its stub, and the stubs' shared parts
(``stubs``). ``outbound.factory`` picks a client per role from settings;
nothing else in the project names a concrete client.
"""
