//! The provider table: one entry per provider, each with where its
//! figures come from and when they were read.

use super::{Host, Imap, Passwords, Provider};
use crate::credentials::AuthMethod;
use crate::tls::Security;

/// Every preset. The pace of each is at or under its documented limit;
/// where a provider publishes no limit the repmail default pace is kept.
pub static PROVIDERS: &[Provider] = &[
    // Source: Google, "Gmail sending limits" (support.google.com/mail/answer/22839,
    // 500 recipients a day for a personal account) and "Sign in with app
    // passwords" (support.google.com/accounts/answer/185833); SMTP and IMAP
    // hosts from "Add Gmail to another email client"
    // (support.google.com/mail/answer/7126229: imap.gmail.com:993 SSL).
    // Read 2026-12-01. Gmail files mail submitted over its SMTP server in
    // "Sent Mail" itself, and drops a second, similar copy appended over
    // IMAP (WildDuck wiki, "Gmail sending", which documents the behaviour
    // it copies from Gmail; read 2026-12-05).
    Provider {
        name: "gmail",
        label: "Gmail",
        host: Host::Fixed("smtp.gmail.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.gmail.com")),
        files_sent: true,
        per_minute: 20,
        daily_cap: Some(450),
        limit_per_minute: None,
        limit_per_day: Some(500),
        sign_in: "an app password (Google Account → Security → 2-Step Verification → App passwords), or OAuth2 with a token_command",
    },
    // Source: Google Workspace Admin Help, "Gmail sending limits in Google
    // Workspace" (support.google.com/a/answer/166852: 2,000 messages a day
    // per user); less secure apps (password sign-in) ended for Workspace
    // (support.google.com/a/answer/14114704). Read 2026-12-01. The same
    // servers as Gmail, so the same IMAP host and the same Sent filing.
    Provider {
        name: "google-workspace",
        label: "Google Workspace",
        host: Host::Fixed("smtp.gmail.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Oauth2,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.gmail.com")),
        files_sent: true,
        per_minute: 20,
        daily_cap: Some(1800),
        limit_per_minute: None,
        limit_per_day: Some(2000),
        sign_in: "OAuth2 with a token_command (or an app password, if your administrator allows them)",
    },
    // Source: Microsoft Learn, "Exchange Online limits", sending limits
    // (30 messages a minute, 10,000 recipients a day) and "Authenticated
    // client SMTP submission (SMTP AUTH)" (smtp.office365.com:587 STARTTLS;
    // basic authentication for SMTP AUTH off by default for existing
    // tenants from the end of December 2026; reply 535 5.7.139).
    // Read 2026-12-01. IMAP: outlook.office365.com:993 TLS (Microsoft
    // Learn, "POP3 and IMAP4 settings for Microsoft 365"; read
    // 2026-12-05). Mail sent by SMTP AUTH is stored in Sent Items since
    // June 2018 (Exchange Team Blog, "Changes coming to the SMTP
    // Authenticated Submission client protocol", 20 April 2018; read
    // 2026-12-05).
    Provider {
        name: "microsoft365",
        label: "Microsoft 365 (Exchange Online)",
        host: Host::Fixed("smtp.office365.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Oauth2,
        passwords: Passwords::Refused,
        imap: Some(Imap::tls("outlook.office365.com")),
        files_sent: true,
        per_minute: 20,
        daily_cap: Some(9000),
        limit_per_minute: Some(30),
        limit_per_day: Some(10_000),
        sign_in: "OAuth2 with a token_command (scope https://outlook.office.com/SMTP.Send)",
    },
    // Source: Microsoft Support, "POP, IMAP, and SMTP settings for
    // Outlook.com" (smtp-mail.outlook.com:587 STARTTLS, outlook.office365.com
    // IMAP; modern authentication only since 16 September 2024) and
    // "Sending limits in Outlook.com" (about 300 recipients a day).
    // Read 2026-12-01. The same Exchange Online service as Microsoft 365
    // (IMAP outlook.office365.com:993 TLS), filing SMTP mail in Sent Items.
    Provider {
        name: "outlook",
        label: "Outlook.com / Hotmail",
        host: Host::Fixed("smtp-mail.outlook.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Oauth2,
        passwords: Passwords::Refused,
        imap: Some(Imap::tls("outlook.office365.com")),
        files_sent: true,
        per_minute: 10,
        daily_cap: Some(270),
        limit_per_minute: Some(30),
        limit_per_day: Some(300),
        sign_in: "OAuth2 with a token_command (Outlook.com no longer takes passwords from other programs)",
    },
    // Source: Yahoo Help, "IMAP server settings for Yahoo Mail"
    // (smtp.mail.yahoo.com:465 SSL, imap.mail.yahoo.com; app password
    // required) and Yahoo Small Business Help SLN17518 "SMTP sending
    // limits" (500 a day). Read 2026-12-01. IMAP imap.mail.yahoo.com:993
    // SSL (same page); Yahoo keeps no copy of mail sent over SMTP, so
    // `auto` appends one.
    Provider {
        name: "yahoo",
        label: "Yahoo Mail",
        host: Host::Fixed("smtp.mail.yahoo.com"),
        port: 465,
        security: Security::Tls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.mail.yahoo.com")),
        files_sent: false,
        per_minute: 10,
        daily_cap: Some(450),
        limit_per_minute: None,
        limit_per_day: Some(500),
        sign_in: "an app password (Yahoo Account Security → Generate app password)",
    },
    // Source: Apple Support 102198 "Mailbox size and message sending limits
    // in iCloud" (1,000 messages and 1,000 recipients a day) and 102525
    // "iCloud Mail server settings" (smtp.mail.me.com:587 STARTTLS,
    // imap.mail.me.com:993 SSL; app-specific password). Read 2026-12-01.
    // Mail sent over SMTP is not filed in Sent: `auto` appends a copy.
    Provider {
        name: "icloud",
        label: "iCloud Mail",
        host: Host::Fixed("smtp.mail.me.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.mail.me.com")),
        files_sent: false,
        per_minute: 20,
        daily_cap: Some(900),
        limit_per_minute: None,
        limit_per_day: Some(1000),
        sign_in: "an app-specific password (account.apple.com → Sign-In and Security → App-Specific Passwords)",
    },
    // Source: Fastmail Help, "Server names and ports" (smtp.fastmail.com:465
    // SSL, imap.fastmail.com; app password) and "Account limits" (sending
    // limits depend on the plan and account age; none published as one
    // figure). Read 2026-12-01. IMAP imap.fastmail.com:993 SSL (same
    // page); Fastmail saves a copy only of mail sent from its own web
    // interface, so `auto` appends one.
    Provider {
        name: "fastmail",
        label: "Fastmail",
        host: Host::Fixed("smtp.fastmail.com"),
        port: 465,
        security: Security::Tls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.fastmail.com")),
        files_sent: false,
        per_minute: 20,
        daily_cap: None,
        limit_per_minute: None,
        limit_per_day: None,
        sign_in: "an app password (Settings → Privacy & Security → Manage app passwords)",
    },
    // Source: Zoho Mail Help, "SMTP server configuration"
    // (smtp.zoho.com:465 SSL, imap.zoho.com; app-specific password with
    // two-factor authentication; other data centres use smtp.zoho.eu, .in
    // …: set `host`) and "Email sending limits" (per plan). Read 2026-12-01.
    // IMAP imap.zoho.com:993 SSL (Zoho Mail Help, "IMAP access"; read
    // 2026-12-05); no copy of SMTP mail is kept, so `auto` appends one.
    Provider {
        name: "zoho",
        label: "Zoho Mail",
        host: Host::Fixed("smtp.zoho.com"),
        port: 465,
        security: Security::Tls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.zoho.com")),
        files_sent: false,
        per_minute: 20,
        daily_cap: None,
        limit_per_minute: None,
        limit_per_day: None,
        sign_in: "an app-specific password (Zoho Accounts → Security → App Passwords)",
    },
    // Source: Proton Support, "Proton Mail Bridge" (SMTP on 127.0.0.1:1025
    // STARTTLS and IMAP on 127.0.0.1:1143 with the Bridge's own password;
    // export its certificate for `ca_file`) and "Sending limits" (150
    // messages a day on the free plan). Read 2026-12-01. What is sent
    // through the Bridge is stored by Proton in the Sent folder (the
    // Bridge sends through Proton's API, which saves the sent message),
    // so `auto` appends nothing.
    Provider {
        name: "proton-bridge",
        label: "Proton Mail Bridge",
        host: Host::Fixed("127.0.0.1"),
        port: 1025,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::Accepted,
        imap: Some(Imap {
            host: "127.0.0.1",
            port: 1143,
            security: Security::Starttls,
        }),
        files_sent: true,
        per_minute: 10,
        daily_cap: Some(140),
        limit_per_minute: None,
        limit_per_day: Some(150),
        sign_in: "the password the Bridge shows for this account (not your Proton password); export the Bridge certificate and set ca_file",
    },
    // Source: AWS, "Amazon SES SMTP endpoints"
    // (email-smtp.<region>.amazonaws.com:587 STARTTLS, SMTP credentials
    // made in the SES console) and "Service quotas in Amazon SES" (sandbox:
    // 200 messages a day, 1 a second; production quotas per account).
    // No mailbox. Read 2026-12-01.
    Provider {
        name: "amazon-ses",
        label: "Amazon SES",
        host: Host::Regional("email-smtp.{}.amazonaws.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::Accepted,
        imap: None,
        files_sent: false,
        per_minute: 20,
        daily_cap: Some(200),
        limit_per_minute: Some(60),
        limit_per_day: None,
        sign_in: "the SMTP credentials made in the SES console (not your AWS password)",
    },
    // Source: Postmark, "SMTP" developer docs (smtp.postmarkapp.com:587
    // STARTTLS; the server API token as both username and password) and
    // "Sending limits" (no daily cap; volume by plan). No mailbox.
    // Read 2026-12-01.
    Provider {
        name: "postmark",
        label: "Postmark",
        host: Host::Fixed("smtp.postmarkapp.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::Accepted,
        imap: None,
        files_sent: false,
        per_minute: 20,
        daily_cap: None,
        limit_per_minute: None,
        limit_per_day: None,
        sign_in: "the server API token, as both username and password",
    },
];
