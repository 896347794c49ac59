"""Type stub of the C extension media/_srtpsend.c."""

def send(
    protect: int, session: int, fd: int, address: bytes, packets: list[bytes], /
) -> tuple[int, int, int]: ...
