# Partner admins come only from the partner's own domain.
#
# A user of the partner account reaches every customer, and an admin of it can change them all:
# an address elsewhere (a contractor, a personal mailbox, a typo) is refused. Copy this file and
# set `partner_domains` to your own domains. Judges the configuration, so `validate --policy`
# applies it too.
package partnerctl.partner_admins

# The partner's own email domains (lower case).
partner_domains := {"acme.example"}

deny contains {"msg": msg, "address": address} if {
	some user in input.configuration.partner.users
	user.role == "admin"
	not own_domain(user.email)
	address := sprintf("partner.user[%s]", [lower(user.email)])
	msg := sprintf(
		"partner admin %s is not from the partner's own domain (%s): make them a member, or an admin of the customers they work for",
		[user.email, concat(", ", sort(partner_domains))],
	)
}

# The domain of `email` (after its last `@`) is one of the partner's.
own_domain(email) if {
	parts := split(lower(email), "@")
	parts[count(parts) - 1] in partner_domains
}
