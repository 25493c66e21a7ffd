# Tests of customer_admins.rego: `partnerctl policy test examples/policies`.
package partnerctl.customer_admins_test

import data.partnerctl.customer_admins

customers(list) := {"configuration": {"partner": {"name": "Acme Partners", "users": []}, "customers": list}}

customer(key, users) := {"key": key, "name": key, "users": users, "networks": []}

admin(email) := {"email": email, "name": "Admin", "role": "admin"}

member(email) := {"email": email, "name": "Member", "role": "member"}

test_customers_with_an_admin_are_allowed if {
	count(customer_admins.deny) == 0 with input as customers([
		customer("contoso", [admin("jane@contoso.example"), member("finance@contoso.example")]),
		customer("fabrikam", [admin("ravi@fabrikam.example")]),
	])
}

test_a_customer_with_members_only_is_denied if {
	denials := customer_admins.deny with input as customers([
		customer("contoso", [admin("jane@contoso.example")]),
		customer("fabrikam", [member("ravi@fabrikam.example")]),
	])
	[d | some d in denials] == [{
		"msg": "customer fabrikam (fabrikam) has no admin: give one of its users `role: admin`",
		"address": "customer.fabrikam",
	}]
}

test_a_customer_without_users_is_denied if {
	count(customer_admins.deny) == 1 with input as customers([customer("empty", [])])
}

test_a_network_admin_does_not_count_for_the_customer if {
	c := object.union(customer("contoso", []), {"networks": [{"key": "contoso-net", "users": [admin("net@contoso.example")]}]})
	count(customer_admins.deny) == 1 with input as customers([c])
}
