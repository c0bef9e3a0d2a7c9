"""From a connection profile to a running stream engine: the simulator or the real venues, credentials
from the keyring, and what each venue lists (the picker's catalog). No Qt."""
