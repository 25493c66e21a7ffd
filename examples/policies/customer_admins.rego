# Every customer keeps at least one admin.
#
# A customer without an admin of its own has nobody on its side who can manage its users and
# settings: a plan that would leave one so (its last admin removed or made a member, or a new
# customer without any) is refused. Only the customer's own users count, not its networks' nor
# the partner's. Judges the configuration, so `validate --policy` applies it too.
package partnerctl.customer_admins

deny contains {"msg": msg, "address": address} if {
	some customer in input.configuration.customers
	every user in customer.users { not user.role == "admin" }
	address := sprintf("customer.%s", [customer.key])
	msg := sprintf(
		"customer %s (%s) has no admin: give one of its users `role: admin`",
		[customer.key, customer.name],
	)
}
