// Package mail sends pushline's mail: approval requests and failure
// notices. A Sender sends one Message; Build renders a Message as an RFC
// 5322 / MIME message (multipart/alternative text + HTML, quoted-printable
// UTF-8 bodies, RFC 2047 subjects). Senders: SES v2 (the raw message,
// through a consumer-owned interface *sesv2.Client satisfies), SMTP (plain
// SMTP to PUSHLINE_SMTP_ADDR, for the local stack) and Outbox (.eml files
// written atomically into a directory, names sortable by time).
package mail
