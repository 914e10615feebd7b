"""/角色 (/role): admins grant and revoke roles; anyone may list them."""
from __future__ import annotations

from bot import roles
from bot.cards import Card
from bot.access import Scope
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.people import names

ROLE = command_group("角色", "role", summary=("查看或设置成员角色", "List, grant or revoke roles"), order=2)


@ROLE.verb("列表", "list", aliases=("查看",), default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
           summary=("谁有什么角色", "Who holds which role"), examples=["/角色 列表"], examples_en=["/role list"])
async def list_roles(ctx: Ctx, args: str) -> None:
    if args.strip():
        raise UsageError(ctx.t("role.usage_hint"))
    await _list(ctx)


@ROLE.verb("授予", "grant", aliases=("授权", "添加", "add"), role=roles.ADMIN, scope=Scope.TEAM,
           args=("@某人 运营|技术|主播", "@someone ops|tech|streamer"), summary=("授予角色", "Grant a role"),
           examples=["/角色 授予 @小王 运营"], examples_en=["/role grant @小王 ops"])
async def grant(ctx: Ctx, args: str) -> None:
    await _change(ctx, args, granting=True)


@ROLE.verb("撤销", "revoke", aliases=("取消", "移除", "remove"), role=roles.ADMIN, scope=Scope.TEAM,
           args=("@某人 角色", "@someone role"), summary=("撤销角色", "Revoke a role"),
           examples=["/角色 撤销 @小王 技术"], examples_en=["/role revoke @Li tech"])
async def revoke(ctx: Ctx, args: str) -> None:
    await _change(ctx, args, granting=False)


async def _change(ctx: Ctx, args: str, *, granting: bool) -> None:
    people = ctx.message.mentions if ctx.message else ()
    if not people:
        raise UserError("role.need_person")
    role_words = [w for w in args.split() if not w.startswith("@")]
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
        if granting:
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
