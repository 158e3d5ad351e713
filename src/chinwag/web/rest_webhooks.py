"""REST (an extension): webhook endpoints and their delivery log; the notification log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field, StringConstraints

from chinwag.notifications import channels
from chinwag.schemas import Strict
from chinwag.web.deps import AuthedApp, Ctx
from chinwag.webhooks import service
from chinwag.webhooks.service import delivery_json, notification_json, webhook_json

router = APIRouter(prefix="/v1/{appId}", tags=["webhooks and notifications"])

WebhookId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
LogLimit = Annotated[int, Query(ge=1, le=100)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
HookUrl = Annotated[str, StringConstraints(min_length=1, max_length=service.MAX_URL)]


class WebhookIn(Strict):
    url: HookUrl
    events: Annotated[list[EventName], Field(max_length=50)] | None = None
    enabled: bool = True


class ChannelSwitch(Strict):
    email: bool | None = None
    sms: bool | None = None


RoleName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ChannelsIn(Strict):
    email: bool = True
    sms: bool = True
    roles: Annotated[dict[RoleName, ChannelSwitch], Field(max_length=100)] = Field(
        default_factory=dict
    )


class WebhookPatch(Strict):
    url: HookUrl | None = None
    events: Annotated[list[EventName], Field(max_length=50)] | None = None
    enabled: bool | None = None


@router.get("/webhooks", summary="The app's webhook endpoints")
def list_webhooks(ctx: Ctx, app: AuthedApp) -> dict[str, Any]:
    return {"data": [webhook_json(h) for h in service.list_webhooks(ctx, app.id)]}


@router.post("/webhooks", summary='Add a webhook endpoint (events default to all: ["*"])')
def create_webhook(ctx: Ctx, app: AuthedApp, body: WebhookIn) -> dict[str, Any]:
    return webhook_json(service.create_webhook(ctx, app.id, body.url, body.events, body.enabled))


@router.get("/webhooks/{webhookId}", summary="A webhook endpoint")
def get_webhook(ctx: Ctx, app: AuthedApp, webhookId: WebhookId) -> dict[str, Any]:
    return webhook_json(service.get_webhook(ctx, app.id, webhookId))


@router.patch("/webhooks/{webhookId}", summary="Change a webhook's URL, events or enabled flag")
def patch_webhook(
    ctx: Ctx, app: AuthedApp, webhookId: WebhookId, body: WebhookPatch
) -> dict[str, Any]:
    return webhook_json(service.update_webhook(ctx, app.id, webhookId, body.given()))


@router.delete("/webhooks/{webhookId}", summary="Remove a webhook endpoint")
def delete_webhook(ctx: Ctx, app: AuthedApp, webhookId: WebhookId) -> dict[str, Any]:
    service.delete_webhook(ctx, app.id, webhookId)
    return {}


@router.get("/webhooks/{webhookId}/deliveries", summary="The webhook's delivery log, newest first")
def list_deliveries(
    ctx: Ctx, app: AuthedApp, webhookId: WebhookId, limit: LogLimit = 50
) -> dict[str, Any]:
    items = service.deliveries(ctx, app.id, webhookId, limit)
    return {"data": [delivery_json(i) for i in items]}


@router.get("/notifications", summary="Notification batches, emails and SMS, newest first")
def list_notifications(ctx: Ctx, app: AuthedApp, limit: LogLimit = 50) -> dict[str, Any]:
    return {"data": [notification_json(i) for i in service.notification_log(ctx, app.id, limit)]}


@router.get("/notifications/settings", summary="Email and SMS switches, app-wide and per role")
def get_notification_settings(ctx: Ctx, app: AuthedApp) -> dict[str, Any]:
    return channels.get_channels(ctx, app.id).to_json()


@router.put("/notifications/settings", summary="Replace the email and SMS switches")
def put_notification_settings(ctx: Ctx, app: AuthedApp, body: ChannelsIn) -> dict[str, Any]:
    roles = {name: (sw.email, sw.sms) for name, sw in body.roles.items()}
    return channels.set_channels(ctx, app.id, body.email, body.sms, roles).to_json()
