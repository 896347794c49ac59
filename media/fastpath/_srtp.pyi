"""Type stub of the C extension media/fastpath/_srtp.c."""

def send_frame(
    protect: int,
    session: int,
    fd: int,
    address: bytes,
    header: bytes,
    block: bytes,
    payloads: list[bytes],
    history: list[bytes | None],
    /,
) -> tuple[int, int, int]: ...
def unprotect(function: int, session: int, datagram: bytes, /) -> bytes | None: ...
