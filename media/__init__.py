"""The SFU on aiortc: forwarding without transcoding, WHIP/WHEP, recording."""
