"""Open API: looking people up (contact/v3/users)."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from .apibase import ApiBase, ApiError, Call, ok
from .state import User


class ContactApi(ApiBase):
    def _api_user(self, user: User, id_type: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "union_id": user.union_id, "user_id": user.user_id, "open_id": user.open_id,
            "name": user.name, "en_name": "", "nickname": "",
            "avatar": {k: "" for k in ("avatar_72", "avatar_240", "avatar_640", "avatar_origin")},
            "status": {"is_frozen": False, "is_resigned": False, "is_activated": True,
                       "is_exited": False, "is_unjoin": False},
            "department_ids": [], "mobile_visible": True,
        }
        if user.email:
            out["email"] = user.email
        if user.mobile:
            out["mobile"] = user.mobile
        return out

    async def get_user(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        user = self._user(call.request.match_info["user_id"], id_type)
        # Outside the app's contact data range ("配置应用数据权限") a user is not readable.
        in_range = self.sim.contact_range is None or (user is not None and user.open_id in self.sim.contact_range)
        if user is None or not in_range:
            raise ApiError(41050, "no user authority error")
        return ok({"user": self._api_user(user, id_type)})

    async def batch_get_id(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        emails = call.field("emails", list, required=False, default=[])
        mobiles = call.field("mobiles", list, required=False, default=[])
        if len(emails) > 50 or len(mobiles) > 50:
            raise ApiError(99992402, "field validation failed: at most 50 emails and 50 mobiles")
        out: list[dict[str, Any]] = []
        status = {"is_frozen": False, "is_resigned": False, "is_activated": True,
                  "is_exited": False, "is_unjoin": False}
        for email in emails:
            user = self._user(email, "email")
            row: dict[str, Any] = {"email": email}
            if user:
                row.update(user_id=self._id_of(user, id_type), status=status)
            out.append(row)
        for mobile in mobiles:
            user = self.sim._by_mobile(mobile) if isinstance(mobile, str) else None
            row = {"mobile": mobile}
            if user:
                row.update(user_id=self._id_of(user, id_type), status=status)
            out.append(row)
        return ok({"user_list": out})
