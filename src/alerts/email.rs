//! Alert e-mail through `lettre`: `smtp://host[:25]` upgrades with STARTTLS when the server
//! offers it (`Tls::Opportunistic`), `smtps://host[:465]` is TLS from the first byte; TLS is
//! rustls. Credentials come from the `[alerts.smtp]` secret refs, never from the URL. Each
//! message is multipart (plain text + HTML) and carries the message id as its `Message-ID`,
//! so a mail that was re-sent after all is recognisable as the same message.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use url::Url;

use super::deliver::ChannelError;
use super::message::Message;
use super::render;
use crate::settings::SmtpSettings;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The schemes `[alerts.smtp] url` accepts.
pub const SCHEMES: [&str; 2] = ["smtp", "smtps"];

/// Sends `message` to `to` through `smtp`.
pub async fn send(
    smtp: &SmtpSettings,
    to: &[String],
    message: &Message,
    public_url: Option<&Url>,
) -> Result<(), ChannelError> {
    let from: Mailbox = smtp.from.parse().map_err(|e| ChannelError::Permanent(format!("alerts.smtp.from: {e}")))?;
    let domain = from.email.domain().to_owned();
    let mut email = lettre::Message::builder()
        .from(from)
        .subject(message.subject())
        .message_id(Some(format!("<{}@{domain}>", message.id)));
    for address in to {
        let mailbox: Mailbox =
            address.parse().map_err(|e| ChannelError::Permanent(format!("alert address `{address}`: {e}")))?;
        email = email.to(mailbox);
    }
    let body = MultiPart::alternative_plain_html(render::text(message, public_url), render::html(message, public_url));
    let email = email.multipart(body).map_err(|e| ChannelError::Permanent(format!("building the e-mail: {e}")))?;
    transport(smtp)?.send(email).await.map(|_| ()).map_err(|e| {
        let why = format!("SMTP: {e}");
        if e.is_permanent() { ChannelError::Permanent(why) } else { ChannelError::Transient(why) }
    })
}

/// The transport `smtp` describes.
fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, ChannelError> {
    let bad = |why: &str| ChannelError::Permanent(format!("alerts.smtp.url {why}"));
    let host = smtp.url.host_str().ok_or_else(|| bad("has no host"))?.to_owned();
    let tls = TlsParameters::new(host.clone()).map_err(|e| ChannelError::Permanent(format!("SMTP TLS: {e}")))?;
    let (tls, default_port) = match smtp.url.scheme() {
        "smtp" => (Tls::Opportunistic(tls), 25),
        "smtps" => (Tls::Wrapper(tls), 465),
        _ => return Err(bad("must be smtp:// or smtps://")),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(smtp.url.port().unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &smtp.username {
        let password = smtp.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.expose().to_owned(), password));
    }
    Ok(builder.build())
}
