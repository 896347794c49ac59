"""The room protocol's catalogue: every message and event kind, declared once, here.

Adding a message kind: its model in ``rooms/messages.py``, its handler (a pure function of
``Context`` and the message) beside its peers, and one ``MessageKind`` line below; an event
kind: its model in ``rooms/events.py`` and one ``EventKind`` line (with its reducer). Then
run ``npm --prefix static run build`` to regenerate the web app's types. An event kind
that changes the room tables names its projection (``rooms/projections.py``, as ``db``).
"""

from __future__ import annotations

from rooms import (
    breakouts,
    caption_store,
    captions,
    chat,
    controls,
    media_commands,
    media_events,
    polls,
    presence,
    quiz_store,
    quizzes,
    replies,
)
from rooms import caption_events as cap
from rooms import events as ev
from rooms import messages as msg
from rooms import projections as db
from rooms import quiz_events as qe
from rooms.kinds import Catalogue, EventKind, MessageKind
from rooms.roles import Grant
from rooms.state import Event, RoomState

CHAT, MODERATE, REACT = Grant.CHAT, Grant.MODERATE, Grant.REACT


def build() -> Catalogue:
    """The catalogue of the room channel."""
    catalogue = Catalogue()
    catalogue.register(
        # ------------------------------------------------ client -> server messages
        MessageKind(msg.Ping, None, None, "ping"),
        MessageKind(msg.ChatSend, chat.send, CHAT, "chat", "chat"),
        MessageKind(msg.ChatEdit, chat.edit, CHAT, "edit messages", "chat"),
        MessageKind(msg.ChatDelete, chat.delete, None, "delete messages", "chat"),
        MessageKind(msg.ChatReact, chat.react, REACT, "react to messages", "chat"),
        MessageKind(msg.ChatTyping, chat.typing, CHAT, "chat", "volatile"),
        MessageKind(msg.HandRaise, controls.raise_hand, Grant.RAISE_HAND, "raise a hand"),
        MessageKind(msg.HandLower, controls.lower_hand, None, "lower hands"),
        MessageKind(msg.ReactionSend, controls.reaction, REACT, "react", "volatile"),
        MessageKind(msg.StatusSet, presence.set_status, None, "change status"),
        MessageKind(msg.ParticipantMute, controls.mute, MODERATE, "mute others"),
        MessageKind(
            msg.ParticipantAskUnmute, controls.ask_unmute, MODERATE, "ask others to unmute"
        ),
        MessageKind(msg.RoomMuteAll, controls.mute_all, MODERATE, "mute everyone"),
        MessageKind(msg.ParticipantRemove, controls.remove, MODERATE, "remove participants"),
        MessageKind(msg.ParticipantSetRole, controls.set_role, MODERATE, "change roles"),
        MessageKind(msg.RoomSpotlight, controls.spotlight, MODERATE, "spotlight"),
        MessageKind(msg.RoomSettings, controls.settings, MODERATE, "change room settings"),
        MessageKind(msg.LobbyAdmit, controls.admit, MODERATE, "admit people"),
        MessageKind(msg.LobbyDeny, controls.deny, MODERATE, "deny entry"),
        MessageKind(msg.RoomEnd, controls.end, MODERATE, "end the class"),
        MessageKind(msg.PollCreate, polls.create, MODERATE, "create polls"),
        MessageKind(msg.PollVote, polls.vote, Grant.VOTE, "vote"),
        MessageKind(msg.PollPublish, polls.publish, MODERATE, "publish poll results"),
        MessageKind(msg.PollClose, polls.close, MODERATE, "close polls"),
        MessageKind(msg.BreakoutCreate, breakouts.create, MODERATE, "create breakout rooms"),
        MessageKind(msg.BreakoutAssign, breakouts.assign, MODERATE, "assign breakout rooms"),
        MessageKind(msg.BreakoutOpen, breakouts.open_rooms, MODERATE, "open breakout rooms"),
        MessageKind(
            msg.BreakoutBroadcast, breakouts.broadcast, MODERATE, "broadcast to breakout rooms"
        ),
        MessageKind(msg.BreakoutClose, breakouts.close, MODERATE, "close breakout rooms"),
        # Media: the decision is pure; the SFU step is the outcome's effect.
        MessageKind(msg.MediaPublish, media_commands.publish, None, "publish media"),
        MessageKind(msg.MediaUnpublish, media_commands.unpublish, None, "unpublish media"),
        MessageKind(msg.MediaSubscribe, media_commands.subscribe, None, "receive media"),
        MessageKind(msg.MediaAnswer, media_commands.answer, None, "receive media"),
        MessageKind(msg.MediaMute, media_commands.mute, MODERATE, "mute others"),
        MessageKind(msg.MediaRecord, media_commands.record, MODERATE, "record the room"),
        MessageKind(msg.CaptionSend, captions.send, Grant.CAPTION, "send captions", "caption"),
        MessageKind(msg.CaptionAssign, captions.assign, MODERATE, "assign captioners"),
        MessageKind(msg.CaptionAuto, captions.auto, MODERATE, "switch automatic captions"),
        MessageKind(msg.QuizLaunch, quizzes.launch, MODERATE, "launch quizzes"),
        MessageKind(msg.QuizAnswer, quizzes.answer, Grant.VOTE, "answer quizzes"),
        MessageKind(msg.QuizClose, quizzes.close, MODERATE, "close quizzes"),
        MessageKind(msg.QuizReveal, quizzes.reveal, MODERATE, "reveal quiz answers"),
        MessageKind(msg.QuizResult, quizzes.result, None, "see quiz results"),
        MessageKind(msg.QuizGrade, quizzes.grade, MODERATE, "grade quizzes"),
        # ------------------------------------------------ sequenced events (persisted)
        EventKind(ev.PresenceConnected, "sequenced", presence.on_connected, projection=db.arrived),
        EventKind(
            ev.PresenceDisconnected, "sequenced", presence.on_disconnected, projection=db.left
        ),
        EventKind(ev.ParticipantStatus, "sequenced", presence.on_status, True),
        EventKind(ev.ParticipantMuted, "sequenced", controls.on_muted, True),
        EventKind(ev.ParticipantRole, "sequenced", controls.on_role, True, projection=db.role),
        EventKind(ev.ParticipantRemoved, "sequenced", controls.on_removed, projection=db.removed),
        EventKind(ev.ParticipantUnbanned, "sequenced", controls.on_unbanned),
        EventKind(ev.ParticipantUnmuteRequested, "sequenced"),
        EventKind(ev.RoomMutedAll, "sequenced", controls.on_muted_all, True),
        EventKind(ev.RoomSpotlighted, "sequenced", controls.on_spotlight),
        EventKind(
            ev.RoomSettingsChanged, "sequenced", controls.on_settings, projection=db.settings
        ),
        EventKind(ev.RoomRenamed, "sequenced", controls.on_renamed, projection=db.renamed),
        EventKind(ev.RoomClosing, "sequenced", controls.on_closing),
        EventKind(ev.RoomEnded, "sequenced", controls.on_ended, projection=db.ended),
        EventKind(ev.HandRaised, "sequenced", controls.on_raised, True),
        EventKind(ev.HandLowered, "sequenced", controls.on_lowered, True),
        EventKind(ev.ChatMessaged, "sequenced", chat.on_message, projection=db.chat_message),
        EventKind(ev.ChatEdited, "sequenced", chat.on_edited, projection=db.chat_edited),
        EventKind(ev.ChatDeleted, "sequenced", chat.on_deleted, projection=db.chat_deleted),
        EventKind(ev.ChatReaction, "sequenced", chat.on_reaction, projection=db.chat_reaction),
        EventKind(ev.LobbyWaiting, "sequenced", presence.on_waiting),
        EventKind(ev.LobbyLeft, "sequenced", presence.on_lobby_left),
        EventKind(ev.LobbyAdmitted, "sequenced", presence.on_admitted),
        EventKind(ev.LobbyDenied, "sequenced", presence.on_lobby_left),
        EventKind(ev.PollCreated, "sequenced", polls.on_created, projection=db.poll_created),
        EventKind(ev.PollVoted, "sequenced", polls.on_voted, projection=db.poll_voted),
        EventKind(ev.PollPublished, "sequenced", polls.on_published, projection=db.poll_changed),
        EventKind(ev.PollClosed, "sequenced", polls.on_closed, projection=db.poll_changed),
        EventKind(
            ev.BreakoutCreated, "sequenced", breakouts.on_created, projection=db.breakouts_created
        ),
        EventKind(
            ev.BreakoutAssigned, "sequenced", breakouts.on_assigned, projection=db.breakouts_changed
        ),
        EventKind(
            ev.BreakoutOpened, "sequenced", breakouts.on_opened, projection=db.breakouts_changed
        ),
        EventKind(ev.BreakoutBroadcast, "sequenced"),
        EventKind(
            ev.BreakoutClosed, "sequenced", breakouts.on_closed, projection=db.breakouts_changed
        ),
        EventKind(ev.TrackPublished, "sequenced", media_events.on_published),
        EventKind(ev.TrackUnpublished, "sequenced", media_events.on_unpublished),
        EventKind(ev.TrackMuted, "sequenced", media_events.on_unpublished),
        EventKind(ev.RecordingSwitched, "sequenced", media_events.on_recording),
        EventKind(
            cap.CaptionLined, "sequenced", captions.on_line, projection=caption_store.line_stored
        ),
        EventKind(
            cap.CaptionCaptioner,
            "sequenced",
            captions.on_captioner,
            projection=caption_store.captioner_changed,
        ),
        EventKind(
            cap.CaptionAutoSwitched,
            "sequenced",
            captions.on_auto,
            projection=caption_store.auto_changed,
        ),
        EventKind(
            qe.QuizLaunched, "sequenced", quizzes.on_launched, projection=quiz_store.launched
        ),
        EventKind(qe.QuizKeyed, "sequenced", quizzes.on_keyed),
        EventKind(
            qe.QuizAnswered, "sequenced", quizzes.on_answered, projection=quiz_store.answered
        ),
        EventKind(qe.QuizTallied, "sequenced", quizzes.on_tallied),
        EventKind(qe.QuizClosed, "sequenced", quizzes.on_closed, projection=quiz_store.changed),
        EventKind(qe.QuizRevealed, "sequenced", quizzes.on_revealed, projection=quiz_store.changed),
        EventKind(qe.QuizGraded, "sequenced", quizzes.on_graded, projection=quiz_store.graded),
        # ------------------------------------------------ volatile events (never stored)
        EventKind(ev.ChatTypingEvent, "volatile"),
        EventKind(ev.Reaction, "volatile"),
        EventKind(ev.ActiveSpeaker, "volatile"),
        EventKind(cap.CaptionPartial, "volatile"),
        # ------------------------------------------------ direct messages (one connection)
        EventKind(replies.Welcome, "direct"),
        EventKind(replies.Pong, "direct"),
        EventKind(replies.Ack, "direct"),
        EventKind(replies.ErrorReply, "direct"),
        EventKind(replies.LobbyWait, "direct"),
        EventKind(replies.MediaOffer, "direct"),
        EventKind(replies.MediaReconnect, "direct"),
    )
    return catalogue


CATALOGUE = build()


def apply(state: RoomState, event: Event, *, offset: int) -> None:
    """Apply one published event to ``state`` with its kind's reducer (``Catalogue.apply``)."""
    CATALOGUE.apply(state, event, offset=offset)
