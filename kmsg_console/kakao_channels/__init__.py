"""Kakao sender profiles (발신프로필): the channels AlimTalk is sent through, per provider.

The blueprint lives in :mod:`.views`; this package's ``__init__`` imports nothing, so the
send rules can read the profiles (:mod:`.usage`) without loading the console's views.
"""
