"""Open API: uploading images and files (im/v1/images, im/v1/files), multipart as Feishu takes it."""
from __future__ import annotations

import mimetypes

from aiohttp import web

from .apibase import MAX_FILE_BYTES, MAX_IMAGE_BYTES, ApiBase, ApiError, Call, image_type, ok
from .state import Resource, random_hex


class UploadsApi(ApiBase):
    async def _multipart(self, call: Call, limit: int) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
        if call.request.content_type != "multipart/form-data":
            raise ApiError(99992402, "field validation failed: multipart/form-data expected")
        fields: dict[str, str] = {}
        files: dict[str, tuple[str, bytes]] = {}
        reader = await call.request.multipart()
        async for part in reader:
            name = part.name or ""
            if part.filename is not None:
                data = bytearray()
                while chunk := await part.read_chunk():
                    data.extend(chunk)
                    if len(data) > limit:
                        raise ApiError(234006, "The file size exceeds the limit.")
                files[name] = (part.filename, bytes(data))
            else:
                fields[name] = (await part.read()).decode("utf-8", "replace")
        call.entry["json"] = {"fields": fields,
                              "files": {k: {"filename": f, "size": len(d)} for k, (f, d) in files.items()}}
        return fields, files

    async def upload_image(self, call: Call) -> web.Response:
        fields, files = await self._multipart(call, MAX_IMAGE_BYTES)
        if fields.get("image_type") not in ("message", "avatar"):
            raise ApiError(234001, "Invalid request param: image_type must be message or avatar")
        if "image" not in files:
            raise ApiError(234001, "Invalid request param: image is required")
        filename, data = files["image"]
        ctype = image_type(data)
        if ctype is None:
            raise ApiError(234011, "Can't recognize image format.")
        key = "img_v3_" + random_hex(30)
        self.state.resources[key] = Resource(key, "image", data, filename or key, ctype)
        return ok({"image_key": key})

    async def upload_file(self, call: Call) -> web.Response:
        fields, files = await self._multipart(call, MAX_FILE_BYTES)
        if fields.get("file_type") not in ("opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"):
            raise ApiError(234001, "Invalid request param: file_type")
        if not fields.get("file_name") or "file" not in files:
            raise ApiError(234001, "Invalid request param: file_name and file are required")
        data = files["file"][1]
        if not data:
            raise ApiError(234010, "File size can't be 0.")
        name = fields["file_name"]
        key = "file_v3_" + random_hex(30)
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.state.resources[key] = Resource(key, "file", data, name, ctype)
        return ok({"file_key": key})
