"""/角色 (/role): admins grant and revoke roles; anyone may list them."""
from __future__ import annotations

from bot import roles
from bot.cards import Card
from bot.commands.registry import command
from bot.context import Ctx
from bot.errors import PermissionDenied, UsageError, UserError
from bot.people import names

GRANT = {"授予", "授权", "添加", "grant", "add"}
REVOKE = {"撤销", "取消", "移除", "revoke", "remove"}
LIST = {"列表", "查看", "list", ""}


@command("角色", "role", examples_en=["/role list", "/role grant @小王 ops", "/role revoke @Li tech"],
         summary=("查看或设置成员角色", "List, grant or revoke roles"),
         usage=("/角色 列表 ｜ /角色 授予 @某人 运营 ｜ /角色 撤销 @某人 技术",
                "/role list | /role grant @someone ops | /role revoke @someone tech"),
         examples=["/角色 授予 @小王 运营", "/角色 列表", "/role revoke @Li tech"], order=2)
async def role_command(ctx: Ctx, args: str) -> None:
    words = args.split()
    verb = words[0].lower() if words else ""
    if verb in LIST:
        await _list(ctx)
        return
    if verb not in GRANT | REVOKE:
        raise UsageError(ctx.t("role.usage_hint"))
    if roles.ADMIN not in ctx.roles:
        raise PermissionDenied(roles.ADMIN)
    people = ctx.message.mentions if ctx.message else ()
    if not people:
        raise UserError("role.need_person")
    role_words = [w for w in words[1:] if not w.startswith("@")]
    if not role_words:
        raise UsageError(ctx.t("role.usage_hint"))
    role = roles.role_from_text(role_words[-1])
    if role is None or role == roles.MEMBER:
        raise UserError("role.unknown_role", role=role_words[-1][:20],
                        choices="、".join(ctx.t(f"roles.{r}") for r in roles.GRANTABLE))
    if role == roles.ADMIN:
        raise UserError("role.admin_env")
    lines = []
    for person in people:
        who = f"@{person.name}"
        role_name = ctx.t(f"roles.{role}")
        if verb in GRANT:
            done = await roles.grant(ctx.session, person.open_id, role, ctx.user_id, ctx.now())
            lines.append(ctx.t("role.granted" if done else "role.already", who=who, role=role_name))
        else:
            done = await roles.revoke(ctx.session, person.open_id, role)
            lines.append(ctx.t("role.revoked" if done else "role.not_held", who=who, role=role_name))
    await ctx.reply("\n".join(lines))


async def _list(ctx: Ctx) -> None:
    grants = await roles.holders(ctx.session)
    ids = sorted({g.open_id for g in grants} | set(ctx.svc.settings.admins))
    who = await names(ctx, ids) if ids else {}
    by_role: dict[str, list[str]] = {}
    for open_id in ctx.svc.settings.admins:
        by_role.setdefault(roles.ADMIN, []).append(who.get(open_id, open_id))
    for g in grants:
        by_role.setdefault(g.role, []).append(who.get(g.open_id, g.open_id))
    card = Card(ctx.t("role.list_title"), template="wathet")
    if not by_role:
        card.markdown(ctx.t("role.list_empty"))
    for role in roles.ALL:
        if role in by_role:
            card.markdown(f"**{ctx.t('roles.' + role)}**：" + "、".join(by_role[role]))
    await ctx.reply(card=card)
