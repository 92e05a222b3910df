"""Campaigns: one text or AlimTalk template sent to many recipients, at a rate, by the worker.

``models.py`` holds the campaign and its recipients (numbers hashed, encrypted and masked,
never in clear); ``upload.py`` reads a recipient CSV into rows and a preview;
``services.py`` creates, confirms, pauses, resumes and cancels; ``dispatch.py`` is the
worker's job that claims recipients and sends each through the send engine, exactly once.
"""
