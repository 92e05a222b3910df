"""Send one message of kind ``KIND`` (sms, lms, mms, ata, cta) through SOLAPI's Python SDK.

An MMS first uploads ``IMAGE_PATH`` with the SDK's ``upload_file`` and sends the file id it
got back. Prints ``{"upload": ..., "response": ...}``: the SDK's parsed answers.
"""

from __future__ import annotations

import os

from solapi.model import KakaoOption, MessageType, RequestMessage, SendRequestConfig
from solapi.model.request.storage import FileTypeEnum
from solapi_python_common import dump, emit, service

TO, SENDER = os.environ["TO"], os.environ["SENDER"]


def build(kind: str, sdk) -> tuple[RequestMessage, dict | None]:
    if kind == "sms":
        return RequestMessage(
            to=TO, from_=SENDER, text="인증번호 123456", type=MessageType.SMS
        ), None
    if kind == "lms":
        text = "장문 안내 " * 20
        return RequestMessage(
            to=TO, from_=SENDER, text=text, subject="안내", type=MessageType.LMS
        ), None
    if kind == "mms":
        upload = sdk.upload_file(os.environ["IMAGE_PATH"], FileTypeEnum.MMS)
        message = RequestMessage(
            to=TO,
            from_=SENDER,
            text="사진 문자",
            subject="사진",
            image_id=upload.file_id,
            type=MessageType.MMS,
        )
        return message, dump(upload)
    if kind == "ata":
        kakao = KakaoOption(
            pf_id=os.environ["PF_ID"],
            template_id=os.environ["TEMPLATE_ID"],
            variables={"service": "KMSG", "code": "123456"},
        )
        return RequestMessage(to=TO, from_=SENDER, kakao_options=kakao, type=MessageType.ATA), None
    if kind == "cta":
        kakao = KakaoOption(pf_id=os.environ["PF_ID"])
        return RequestMessage(
            to=TO, from_=SENDER, text="친구톡 안내", kakao_options=kakao, type=MessageType.CTA
        ), None
    raise SystemExit(f"unknown KIND {kind!r}")


def main() -> None:
    sdk = service()
    message, upload = build(os.environ["KIND"], sdk)
    response = sdk.send(message, SendRequestConfig(show_message_list=True))
    emit({"upload": upload, "response": dump(response)})


if __name__ == "__main__":
    main()
