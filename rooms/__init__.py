"""The classroom: room state, roles, chat, hands, polls, breakouts, documents."""
