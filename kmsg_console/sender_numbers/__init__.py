"""Sender numbers (발신번호 사전등록제): the numbers SMS/LMS/MMS may leave from, per provider."""

from kmsg_console.sender_numbers.views import bp

__all__ = ["bp"]
