"""Send one message through SOLAPI's Python SDK.

``MESSAGE`` is the message as JSON with SOLAPI's field names (``from``, ``imageId``,
``kakaoOptions``...), handed to the SDK's ``RequestMessage``. With ``IMAGE_PATH`` the image is
first uploaded with the SDK's ``upload_file`` and the message names the file id it got back.
Prints ``{"upload": ..., "response": ...}``: the SDK's parsed answers.
"""

from __future__ import annotations

import json
import os

from solapi.model import RequestMessage, SendRequestConfig
from solapi.model.request.storage import FileTypeEnum
from solapi_python_common import dump, emit, service


def main() -> None:
    sdk = service()
    fields = json.loads(os.environ["MESSAGE"])
    upload = None
    if os.environ.get("IMAGE_PATH"):
        upload = sdk.upload_file(os.environ["IMAGE_PATH"], FileTypeEnum.MMS)
        fields["imageId"] = upload.file_id
    response = sdk.send(RequestMessage(**fields), SendRequestConfig(show_message_list=True))
    emit({"upload": dump(upload) if upload else None, "response": dump(response)})


if __name__ == "__main__":
    main()
