"""Notifications: a per-user inbox, delivery by e-mail (at once or in a daily digest), live
push over the per-user WebSocket channel, optional Web Push; and the account e-mails
(address verification, password reset) sent through the same mailer.

Other domains call ``service.notify(session, user_id, category, ...)`` inside their own
transaction; everything after that (the e-mail, the live push, the Web Push) is a job.
"""
