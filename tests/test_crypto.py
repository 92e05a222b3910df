"""Field encryption and lookup hashes: rotation, purposes, and a hash format that never moves."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from kmsg_console.crypto import CryptoError, Keyring

OLD = base64.urlsafe_b64encode(b"o" * 32).decode()
NEW = base64.urlsafe_b64encode(b"n" * 32).decode()
HASH_KEY = base64.urlsafe_b64encode(b"h" * 32).decode()


def test_a_rotated_keyring_encrypts_with_the_first_key_and_decrypts_with_every_one():
    before = Keyring.from_config(f"old:{OLD}", HASH_KEY)
    token = before.encrypt("01012345678", "campaign_recipient:phone")
    after = Keyring.from_config(f"new:{NEW},old:{OLD}", HASH_KEY)
    assert after.decrypt(token, "campaign_recipient:phone") == "01012345678"
    fresh = after.encrypt("01012345678", "campaign_recipient:phone")
    assert after.key_id_of(fresh) == "new"
    with pytest.raises(CryptoError):
        before.decrypt(fresh, "campaign_recipient:phone")  # the old ring lacks the new key


def test_a_value_moved_to_another_purpose_does_not_decrypt():
    keyring = Keyring.from_config(f"k1:{NEW}", HASH_KEY)
    token = keyring.encrypt("secret", "provider:1:api_secret")
    with pytest.raises(CryptoError):
        keyring.decrypt(token, "provider:2:api_secret")


def test_the_lookup_hash_is_hmac_sha256_of_purpose_and_value():
    # Stored hashes (send logs, opt-outs, recipients) are matched against new ones: the format
    # may never change.
    keyring = Keyring.from_config(f"k1:{NEW}", HASH_KEY)
    expected = hmac.new(b"h" * 32, b"phone\x0001012345678", hashlib.sha256).hexdigest()
    assert keyring.lookup_hash("01012345678", "phone") == expected
