"""The Redis side of `RedisBroker`: key names, the two Lua scripts, and their reply formats.

Per channel (all three names share the hash tag `{channel}`, so they live on one cluster slot):

- `<prefix>:{<channel>}:meta`: a hash with `e` (epoch) and `s` (latest offset); TTL `meta_ttl`.
- `<prefix>:{<channel>}:history`: a stream capped with `MAXLEN ~ history_size`; entry id
  `<offset>-0`, fields `d` (payload) and `t` (server time in ms); TTL `history_ttl`.
- `<prefix>:{<channel>}:pub`: the pub/sub channel (sharded by default); each message is the
  frame `<offset>:<epoch>:<payload>`, so subscribers build a `Publication` without a read.

Offsets are dense within an epoch. A channel whose meta is gone (expired, evicted, or a Redis
restart without persistence) gets a fresh epoch, and its stale stream is deleted with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .broker import HistoryResult, Publication

PUBLISH_LUA = """
-- KEYS[1] meta hash, KEYS[2] history stream
-- ARGV[1] payload, ARGV[2] history size, ARGV[3] history ttl (ms), ARGV[4] meta ttl (ms),
-- ARGV[5] fresh epoch (used only if the channel has none), ARGV[6] pub/sub channel,
-- ARGV[7] publish command ('spublish' or 'publish')
local epoch = redis.call('hget', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('hset', KEYS[1], 'e', epoch)
  redis.call('del', KEYS[2])
end
local offset = redis.call('hincrby', KEYS[1], 's', 1)
redis.call('pexpire', KEYS[1], ARGV[4])
if tonumber(ARGV[2]) > 0 then
  local now = redis.call('time')
  local ms = now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000))
  redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[2], offset .. '-0', 'd', ARGV[1], 't', ms)
  redis.call('pexpire', KEYS[2], ARGV[3])
end
local receivers = redis.call(ARGV[7], ARGV[6], offset .. ':' .. epoch .. ':' .. ARGV[1])
return {offset, epoch, receivers}
"""
"""Next offset (creating the epoch if missing), capped XADD with TTLs, then one publish;
the reply also says how many subscriptions (one per node) the publish reached."""

HISTORY_LUA = """
-- KEYS[1] meta hash, KEYS[2] history stream
-- ARGV[1] since offset, ARGV[2] limit, ARGV[3] history size, ARGV[4] history ttl (ms),
-- ARGV[5] fresh epoch (used only if the channel has none), ARGV[6] meta ttl (ms)
-- Reply: {epoch, latest offset, offset-id, payload, offset-id, payload, ...}
local meta = redis.call('hmget', KEYS[1], 'e', 's')
local epoch = meta[1]
if not epoch then
  epoch = ARGV[5]
  redis.call('hset', KEYS[1], 'e', epoch)
  redis.call('pexpire', KEYS[1], ARGV[6])
  redis.call('del', KEYS[2])
  return {epoch, 0}
end
local top = tonumber(meta[2] or '0')
local reply = {epoch, top}
local limit = tonumber(ARGV[2])
local first = math.max(tonumber(ARGV[1]), top - tonumber(ARGV[3]), 0) + 1
if limit <= 0 or first > top then
  return reply
end
local now = redis.call('time')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[4])
local start = first .. '-0'
while limit > 0 do
  local entries = redis.call('xrange', KEYS[2], start, '+', 'COUNT', limit)
  if #entries == 0 then
    break
  end
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    if limit > 0 and tonumber(fields[4]) > cutoff then
      reply[#reply + 1] = entry[1]
      reply[#reply + 1] = fields[2]
      limit = limit - 1
    end
  end
  start = '(' .. entries[#entries][1]
end
return reply
"""
"""Latest (epoch, offset), creating the epoch if missing, plus retained entries after `since`.

Entries older than the history TTL are skipped, and so are offsets that fell out of the last
`history_size` (the approximate MAXLEN may keep a few more), so history is exact by count and age.
"""

BUMP_LUA = """
-- KEYS[1] meta hash, KEYS[2] history stream
-- ARGV[1] fresh epoch, ARGV[2] meta ttl (ms), ARGV[3] pub/sub channel, ARGV[4] publish command
redis.call('del', KEYS[2])
redis.call('hset', KEYS[1], 'e', ARGV[1], 's', 0)
redis.call('pexpire', KEYS[1], ARGV[2])
redis.call(ARGV[4], ARGV[3], '0:' .. ARGV[1] .. ':')
return 1
"""
"""Start a new epoch (empty history), and tell subscribers with an offset-0 frame they can
never deliver in order, so each of them reads the stream and resets the channel."""


@dataclass(frozen=True, slots=True)
class ChannelKeys:
    """The Redis names of one broker channel."""

    meta: str
    history: str
    pubsub: bytes

    @classmethod
    def for_channel(cls, prefix: str, channel: str) -> ChannelKeys:
        """Names under `prefix`, hash-tagged by `channel` so they share a cluster slot."""
        base = f"{prefix}:{{{channel}}}"
        return cls(f"{base}:meta", f"{base}:history", f"{base}:pub".encode())


class FrameError(ValueError):
    """A pub/sub message that is not an `<offset>:<epoch>:<payload>` frame."""


def parse_frame(channel: str, data: bytes) -> Publication:
    """Turn a pub/sub message published by `PUBLISH_LUA` into a `Publication`."""
    parts = data.split(b":", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1]:
        raise FrameError(f"malformed frame on channel {channel!r}")
    return Publication(channel, int(parts[0]), parts[1].decode("ascii"), parts[2])


def parse_publish_reply(channel: str, payload: bytes, reply: Sequence[Any]) -> Publication:
    """The publication `PUBLISH_LUA` just made, from its `{offset, epoch, receivers}` reply."""
    receivers = int(reply[2]) if len(reply) > 2 else None
    return Publication(channel, int(reply[0]), _text(reply[1]), payload, receivers)


def parse_history_reply(channel: str, reply: Sequence[Any]) -> HistoryResult:
    """`HISTORY_LUA`'s flat reply as a `HistoryResult`."""
    epoch = _text(reply[0])
    publications = tuple(
        Publication(channel, _offset_of(reply[i]), epoch, bytes(reply[i + 1]))
        for i in range(2, len(reply) - 1, 2)
    )
    return HistoryResult(publications, epoch, int(reply[1]))


def _offset_of(entry_id: bytes | str) -> int:
    """Offset from a stream entry id `<offset>-0`."""
    return int(_text(entry_id).partition("-")[0])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
