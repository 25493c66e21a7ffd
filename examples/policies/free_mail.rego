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

# The domains with the `@` before them: an address whose domain (after its last `@`) is a
# free-mail domain ends with one of them, which one call tells.
at_free_mail_domains := {concat("", ["@", domain]) | some domain in free_mail_domains}

# An invitation: the email it goes to is the operation's; its domain is what follows the last
# `@`, in lower case.
deny contains {"msg": message("an invitation", email, domain), "address": op.address} if {
	# A plan has an operation for every change: each is looked at with one comparison, and
	# only invitations go further; of those, only the addresses that end with a free-mail
	# domain (one call) are taken apart.
	some op in input.plan.operations
	op.action == "invite"
	strings.any_suffix_match(lower(op.after.email), at_free_mail_domains)
	email := op.after.email
	at := split(email, "@")
	domain := lower(at[count(at) - 1])
	domain in free_mail_domains
}

# A re-sent invitation: the email it goes to is in its address (`….user[EMAIL]`).
deny contains {"msg": message("a re-sent invitation", email, domain), "address": op.address} if {
	some op in input.plan.operations
	op.action == "resend"
	parts := split(op.address, ".user[")
	email := trim_suffix(parts[count(parts) - 1], "]")
	at := split(email, "@")
	domain := lower(at[count(at) - 1])
	domain in free_mail_domains
}

message(what, email, domain) := sprintf(
	"%s to %s, an address of the free-mail provider %s: invite a work address",
	[what, email, domain],
)
