"""Open API: group chats and their members (im/v1/chats)."""
from __future__ import annotations

from bot.clock import wall_seconds
from typing import Any

from aiohttp import web

from .apibase import CHAT_UUID_TTL, ApiBase, ApiError, Call, ok
from .state import Chat


class ChatsApi(ApiBase):
    def _api_chat(self, chat: Chat) -> dict[str, Any]:
        owner = {"owner_id": chat.owner_id, "owner_id_type": "open_id"} if chat.owner_id else {}
        return {
            "avatar": "", "name": chat.name, "description": chat.description, **owner,
            "add_member_permission": "all_members", "share_card_permission": "allowed",
            "at_all_permission": "all_members", "edit_permission": "all_members",
            "group_message_type": "chat", "chat_mode": "p2p" if chat.chat_type == "p2p" else "group",
            "chat_type": "private", "chat_tag": "inner", "external": False,
            "tenant_key": self.sim.tenant_key, "join_message_visibility": "all_members",
            "leave_message_visibility": "all_members", "membership_approval": "no_approval_required",
            "moderation_permission": "all_members", "urgent_setting": chat.urgent_setting,
            "video_conference_setting": "all_members", "pin_manage_setting": "all_members",
            "hide_member_count_setting": "all_members",
            "user_count": str(len(chat.members)), "bot_count": "1" if chat.bot_in_chat else "0",
            "chat_status": "normal",
        }

    async def create_chat(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        existing = self._dedupe(self.state.chat_uuids, call.query.get("uuid"), CHAT_UUID_TTL)
        if existing and existing in self.state.chats:
            chat = self.state.chats[existing]
            return ok({"chat_id": chat.chat_id, **self._api_chat(chat)})
        name = call.field("name", str, required=False, default="")
        description = call.field("description", str, required=False, default="")
        ids = call.field("user_id_list", list, required=False, default=[])
        if len(ids) > 50:
            raise ApiError(99992402, "field validation failed: user_id_list holds at most 50 ids")
        bots = call.field("bot_id_list", list, required=False, default=[])
        if any(b != self.sim.app_id for b in bots):
            raise ApiError(232043, "invalid bot ids: only this app can be added in the simulator")
        members = [u.open_id for u in self._users(ids, id_type)]
        owner_id = call.field("owner_id", str, required=False, default="")
        if owner_id:
            owner = self._users([owner_id], id_type)[0]
            owner_id = owner.open_id
            members.insert(0, owner_id)
        members = list(dict.fromkeys(members))
        urgent_setting = self._urgent_setting(call)
        chat = Chat(chat_id=self.state.new_chat_id(), name=name or "Group chat", chat_type="group",
                    members=members, bot_in_chat=True, description=description, owner_id=owner_id,
                    created_by_bot=True, urgent_setting=urgent_setting or "all_members",
                    bot_is_admin=call.query.get("set_bot_manager") == "true")
        self.state.chats[chat.chat_id] = chat
        uuid = call.query.get("uuid")
        if uuid:
            self.state.chat_uuids[uuid] = (wall_seconds(), chat.chat_id)
        self.sim.stats["chats_created"] += 1
        self.sim.notify()
        return ok({"chat_id": chat.chat_id, **self._api_chat(chat)})

    async def list_chats(self, call: Call) -> web.Response:
        chats = [c for c in self.state.chats.values() if c.bot_in_chat and c.chat_type == "group"]
        items = [{"chat_id": c.chat_id, "avatar": "", "name": c.name, "description": c.description,
                  "owner_id": c.owner_id, "owner_id_type": "open_id", "external": False,
                  "tenant_key": self.sim.tenant_key, "chat_status": "normal"} for c in chats]
        return ok(self._page(call, items))

    async def get_chat(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        return ok(self._api_chat(chat))

    async def update_chat(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        name = call.field("name", str, required=False)
        description = call.field("description", str, required=False)
        owner_id = call.field("owner_id", str, required=False)
        if owner_id is not None:
            owner = self._users([owner_id], call.query.get("user_id_type", "open_id"))[0]
            if owner.open_id not in chat.members:
                raise ApiError(232043, "the new owner must be a member of the chat")
            chat.owner_id = owner.open_id
        if name is not None:
            chat.name = name
        if description is not None:
            chat.description = description
        urgent_setting = self._urgent_setting(call)
        if urgent_setting is not None:
            chat.urgent_setting = urgent_setting
        self.sim.notify()
        return ok({})

    def _urgent_setting(self, call: Call) -> str | None:
        value = call.field("urgent_setting", str, required=False)
        if value is not None and value not in ("only_owner", "all_members"):
            raise ApiError(99992402, "field validation failed: urgent_setting is only_owner or all_members")
        return value

    async def add_members(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        id_type = call.query.get("member_id_type", "open_id")
        ids = call.field("id_list", list)
        if len(ids) > 50:
            raise ApiError(99992402, "field validation failed: id_list holds at most 50 ids")
        prefix = {"open_id": "ou_", "union_id": "on_", "app_id": "cli_"}.get(id_type, "")
        invalid, missing, added = [], [], []
        for any_id in ids:
            if not isinstance(any_id, str) or not any_id.startswith(prefix):
                invalid.append(str(any_id))
                continue
            user = self._user(any_id, id_type)
            if user is None:
                missing.append(any_id)
            elif user.open_id not in chat.members:
                added.append(user.open_id)
        if call.query.get("succeed_type") == "2" and (invalid or missing):
            raise ApiError(232043, f"invalid user ids: {', '.join(invalid + missing)}")
        chat.members.extend(added)
        self.sim.notify()
        return ok({"invalid_id_list": invalid, "not_existed_id_list": missing,
                   "pending_approval_id_list": []})

    async def remove_members(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        id_type = call.query.get("member_id_type", "open_id")
        invalid = []
        for any_id in call.field("id_list", list):
            user = self._user(any_id, id_type)
            if user is None or user.open_id not in chat.members:
                invalid.append(str(any_id))
            else:
                chat.members.remove(user.open_id)
        self.sim.notify()
        return ok({"invalid_id_list": invalid})

    async def list_members(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        id_type = call.query.get("member_id_type", "open_id")
        items = []
        for open_id in chat.members:
            user = self.state.users.get(open_id)
            if user:
                items.append({"member_id_type": id_type, "member_id": self._id_of(user, id_type),
                              "name": user.name, "tenant_key": self.sim.tenant_key})
        data = self._page(call, items)
        data["member_total"] = len(items)
        return ok(data)
