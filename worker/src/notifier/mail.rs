//! Mail over SMTP with lettre: `ZMON_SMTP_URL` in lettre's URL form
//! (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
//! `smtps://user:pass@host:465`).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::targets::Attempt;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// A message ready to send.
pub struct Mail {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub hide_recipients: bool,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl Mailer {
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("ZMON_SMTP_URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        let address = from
            .parse()
            .map_err(|e| format!("ZMON_SMTP_FROM '{from}': {e}"))?;
        Ok(Self {
            transport,
            from: Mailbox::new(Some("ZMON".into()), address),
        })
    }

    pub async fn send(&self, mail: Mail) -> Attempt {
        let recipients = mail.to.clone();
        let message = match build(&self.from, mail) {
            Ok(m) => m,
            Err(error) => {
                return Attempt::Fatal {
                    error,
                    status: None,
                };
            }
        };
        match self.transport.send(message).await {
            Ok(_) => Attempt::Delivered {
                targets: recipients,
                status: None,
            },
            Err(e) if e.is_permanent() => Attempt::Fatal {
                error: format!("SMTP refused the mail: {e}"),
                status: None,
            },
            Err(e) => Attempt::Retry {
                error: format!("SMTP: {e}"),
                status: None,
                after: None,
            },
        }
    }
}

fn mailbox(address: &str) -> Result<Mailbox, String> {
    address
        .trim()
        .parse()
        .map_err(|e| format!("'{address}' is not a mail address: {e}"))
}

fn build(from: &Mailbox, mail: Mail) -> Result<Message, String> {
    // The envelope names the real recipients; with hidden recipients the
    // `To:` header (the sender, as ZMON does) must not get a copy.
    let mut rcpt = Vec::new();
    for address in mail.to.iter().chain(&mail.cc) {
        rcpt.push(mailbox(address)?.email);
    }
    let envelope = lettre::address::Envelope::new(Some(from.email.clone()), rcpt)
        .map_err(|e| format!("cannot address the mail: {e}"))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(mail.subject)
        .envelope(envelope);
    if mail.hide_recipients {
        // ZMON's "Undisclosed Recipients": everyone in Bcc.
        builder = builder.to(Mailbox::new(
            Some("Undisclosed Recipients".into()),
            from.email.clone(),
        ));
        for to in &mail.to {
            builder = builder.bcc(mailbox(to)?);
        }
    } else {
        for to in &mail.to {
            builder = builder.to(mailbox(to)?);
        }
    }
    for cc in &mail.cc {
        builder = builder.cc(mailbox(cc)?);
    }
    let built = match mail.html {
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        ),
        None => builder.header(ContentType::TEXT_PLAIN).body(mail.text),
    };
    built.map_err(|e| format!("cannot build the mail: {e}"))
}
