"""The notifications screen: digest rule, channels, deliveries, feed."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.delivery_badge import delivery_badge
from ingest_app.components.form_field import form_field
from ingest_app.components.layout import page_shell
from ingest_app.states.notifications import HOURS, REFRESH_MS, NotificationsState
from ingest_app.states.rows import ChannelRow, DeliveryRow

S = NotificationsState
NO_ERROR = rx.Var.create("")


def _switch(label: str, checked: rx.Var[bool], on_change, id_: str) -> rx.Component:
    """A switch named by its visible label (a `label` element for the switch's button)."""
    return rx.hstack(
        rx.switch(checked=checked, on_change=on_change, id=id_),
        rx.text(label, size="2", as_="label", custom_attrs={"htmlFor": id_}),
        align="center",
    )


def _when() -> rx.Component:
    """After each run, or daily at an hour of a timezone (asked only for a daily digest)."""
    return rx.flex(
        form_field(
            "Send",
            rx.select.root(
                rx.select.trigger(id="rule-mode"),
                rx.select.content(
                    rx.select.item("After each run", value="after_run"),
                    rx.select.item("One daily digest", value="daily"),
                ),
                value=S.mode,
                on_change=S.set_mode,
            ),
            NO_ERROR,
            control_id="rule-mode",
        ),
        rx.cond(
            S.mode == "daily",
            rx.flex(
                form_field(
                    "At hour",
                    rx.select(HOURS, value=S.daily_hour, on_change=S.set_daily_hour, id="rule-hour"),
                    NO_ERROR,
                    control_id="rule-hour",
                ),
                form_field(
                    "Timezone",
                    rx.input(value=S.rule_timezone, on_change=S.set_rule_timezone, id="rule-timezone"),
                    NO_ERROR,
                ),
                spacing="3",
            ),
        ),
        spacing="4",
        wrap="wrap",
    )


def _included() -> rx.Component:
    return rx.flex(
        _switch("reopened jobs", S.include_reopened, S.set_include_reopened, "rule-reopened"),
        _switch("changed jobs", S.include_changed, S.set_include_changed, "rule-changed"),
        _switch("remote jobs only", S.remote_only, S.set_remote_only, "rule-remote"),
        spacing="4",
        wrap="wrap",
    )


def _filters() -> rx.Component:
    """Which jobs a digest names: by title keyword, location and company."""
    return rx.flex(
        form_field(
            "Title keywords",
            rx.input(value=S.keywords, on_change=S.set_keywords, placeholder="python, data", id="rule-keywords"),
            NO_ERROR,
            hint="Comma-separated; any of them. Empty: every title.",
        ),
        form_field(
            "Locations",
            rx.input(value=S.locations, on_change=S.set_locations, placeholder="Berlin, Remote", id="rule-locations"),
            NO_ERROR,
        ),
        form_field(
            "Companies",
            rx.input(value=S.companies, on_change=S.set_companies, placeholder="Acme", id="rule-companies"),
            NO_ERROR,
        ),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _rule() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Digest", size="4"),
            _when(),
            rx.text("New jobs are always included. Also include:", size="2", color_scheme="gray"),
            _included(),
            _filters(),
            _switch("Digests on", S.rule_enabled, S.set_rule_enabled, "rule-enabled"),
            rx.cond(
                S.rule_error != "", rx.callout(S.rule_error, color_scheme="red", high_contrast=True, id="rule-error")
            ),
            rx.cond(
                S.rule_notice != "",
                rx.callout(S.rule_notice, color_scheme="green", high_contrast=True, id="rule-notice"),
            ),
            rx.button("Save digest settings", on_click=S.save_rule, id="save-rule"),
            rx.text("Nothing new means no message.", size="1", color_scheme="gray"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _channel_row(channel: ChannelRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(channel.name, weight="medium"), rx.text(channel.kind, size="1", color_scheme="gray")),
        rx.table.cell(rx.code(channel.masked_url, size="1"), class_name="break-all"),
        rx.table.cell(
            delivery_badge(channel.state),
            rx.cond(channel.error != "", rx.text(channel.error, size="1", color_scheme="red")),
            min_width="10em",
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Send test", size="1", variant="soft", on_click=S.send_test(channel.id), class_name="send-test"
                ),
                rx.button(
                    "Delete", size="1", variant="ghost", color_scheme="red", on_click=S.delete_channel(channel.id)
                ),
            )
        ),
        class_name="channel-row",
    )


def _add_channel() -> rx.Component:
    return rx.flex(
        form_field("Name", rx.input(value=S.new_name, on_change=S.set_new_name, id="channel-name"), NO_ERROR),
        form_field(
            "Type",
            rx.select.root(
                rx.select.trigger(id="channel-kind"),
                rx.select.content(
                    rx.select.item("Apprise URL (email, Slack, Discord, Telegram, ntfy…)", value="apprise"),
                    rx.select.item("Signed webhook (JSON + HMAC)", value="webhook"),
                ),
                value=S.new_kind,
                on_change=S.set_new_kind,
            ),
            NO_ERROR,
            control_id="channel-kind",
        ),
        form_field(
            "URL",
            rx.input(
                value=S.new_url,
                on_change=S.set_new_url,
                placeholder=rx.cond(
                    S.new_kind == "webhook", "https://example.com/hooks/jobs", "mailto://user:pass@gmail.com"
                ),
                id="channel-url",
                type="password",
            ),
            NO_ERROR,
            hint="Stored encrypted; only a masked form is shown again.",
        ),
        rx.cond(
            S.new_kind == "webhook",
            form_field(
                "Signing secret",
                rx.input(value=S.new_secret, on_change=S.set_new_secret, type="password", id="channel-secret"),
                NO_ERROR,
                hint="16+ characters; X-Ingest-Signature-256 = sha256=HMAC(secret, body)",
            ),
        ),
        rx.button("Add channel", on_click=S.add_channel, id="add-channel", align_self="end"),
        spacing="3",
        wrap="wrap",
        align="start",
        width="100%",
    )


def _channels() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Channels", size="4"),
            rx.cond(
                S.channels.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Channel"),
                                rx.table.column_header_cell("Address"),
                                rx.table.column_header_cell("Last delivery"),
                                rx.table.column_header_cell("Actions"),
                            )
                        ),
                        rx.table.body(rx.foreach(S.channels, _channel_row)),
                        variant="surface",
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text("No channel yet: add one to get digests.", color_scheme="gray"),
            ),
            rx.cond(
                S.channel_error != "",
                rx.callout(S.channel_error, color_scheme="red", high_contrast=True, id="channel-error"),
            ),
            rx.cond(
                S.channel_notice != "",
                rx.callout(S.channel_notice, color_scheme="green", high_contrast=True, id="channel-notice"),
            ),
            _add_channel(),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _delivery_row(delivery: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(delivery.when, white_space="nowrap"),
        rx.table.cell(delivery.channel),
        rx.table.cell(delivery.what),
        rx.table.cell(delivery_badge(delivery.state)),
        rx.table.cell(rx.text(delivery.detail, size="1"), min_width="12em"),
        class_name="delivery-row",
    )


def _deliveries() -> rx.Component:
    return rx.cond(
        S.deliveries.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading("Recent deliveries", size="4"),
                rx.box(
                    rx.table.root(
                        rx.table.body(rx.foreach(S.deliveries, _delivery_row)),
                        variant="surface",
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                width="100%",
            ),
            width="100%",
        ),
    )


def _feed() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Atom feed", size="4"),
            rx.text("New jobs in any feed reader, at a secret address.", size="2", color_scheme="gray"),
            rx.cond(
                S.feed_url != "",
                rx.vstack(
                    rx.text("Your feed address (shown once; keep it secret):", size="2"),
                    rx.code(S.feed_url, id="feed-url", class_name="break-all"),
                ),
                rx.cond(S.feed_active, rx.text("A feed address is active.", size="2", id="feed-active")),
            ),
            rx.hstack(
                rx.button(
                    rx.cond(S.feed_active, "New address (revokes the old one)", "Create feed address"),
                    on_click=S.create_feed,
                    variant="soft",
                    id="create-feed",
                ),
                rx.cond(
                    S.feed_active,
                    rx.button("Revoke", on_click=S.revoke_feed, variant="ghost", color_scheme="red", id="revoke-feed"),
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


@rx.page(route=routes.NOTIFICATIONS, title="Notifications · Job ingestion", on_load=S.load)
def notifications_page() -> rx.Component:
    return page_shell(
        "Notifications",
        rx.box(rx.cond(S.waiting, rx.moment(interval=REFRESH_MS, on_change=S.tick)), display="none"),
        rx.text(
            "A short message when runs find new jobs: by email, chat or webhook, sent by the worker.",
            color_scheme="gray",
        ),
        _rule(),
        _channels(),
        _deliveries(),
        _feed(),
    )
