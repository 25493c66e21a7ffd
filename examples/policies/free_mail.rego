# No invitations to free-mail domains.
#
# An invitation gives access to a customer's account; addresses of free-mail providers belong to
# nobody the partner or the customer can hold to account. A plan inviting one (or re-sending an
# expired invitation to one) is refused. Extend `free_mail_domains` as you see fit. Judges the
# plan's operations, so `validate` does not apply it.
package partnerctl.free_mail

free_mail_domains := {
	"aol.com", "gmail.com", "gmx.com", "gmx.de", "gmx.net", "googlemail.com", "hotmail.com",
	"icloud.com", "live.com", "mail.com", "mail.ru", "me.com", "msn.com", "outlook.com",
	"proton.me", "protonmail.com", "web.de", "yahoo.com", "yandex.com", "yandex.ru", "zoho.com",
}

deny contains {"msg": msg, "address": op.address} if {
	some op in input.plan.operations
	what := invitations[op.action]
	email := invited(op)
	domain := domain_of(email)
	domain in free_mail_domains
	msg := sprintf(
		"%s to %s, an address of the free-mail provider %s: invite a work address",
		[what, email, domain],
	)
}

# The operations that send an invitation, by action.
invitations := {"invite": "an invitation", "resend": "a re-sent invitation"}

# The email an invitation goes to: an invitation's, or a re-sent one's (from its address,
# `….user[EMAIL]`).
invited(op) := op.after.email if op.action == "invite"

invited(op) := trim_suffix(parts[count(parts) - 1], "]") if {
	op.action == "resend"
	parts := split(op.address, ".user[")
}

domain_of(email) := lower(parts[count(parts) - 1]) if parts := split(email, "@")
