# Tests of partner_admins.rego: `partnerctl policy test examples/policies`.
package partnerctl.partner_admins_test

import data.partnerctl.partner_admins

partner(users) := {"configuration": {"partner": {"name": "Acme Partners", "users": users}, "customers": []}}

test_admins_of_the_own_domain_are_allowed if {
	count(partner_admins.deny) == 0 with input as partner([
		{"email": "ops@acme.example", "name": "Acme Ops", "role": "admin"},
		{"email": "Boss@ACME.example", "name": "Boss", "role": "admin"},
	])
}

test_an_admin_of_another_domain_is_denied_with_the_address if {
	denials := partner_admins.deny with input as partner([
		{"email": "ops@acme.example", "name": "Acme Ops", "role": "admin"},
		{"email": "helper@contractor.example", "name": "Helper", "role": "admin"},
	])
	count(denials) == 1
	some d in denials
	d.address == "partner.user[helper@contractor.example]"
	contains(d.msg, "helper@contractor.example")
}

test_members_of_another_domain_are_allowed if {
	count(partner_admins.deny) == 0 with input as partner([
		{"email": "support@contractor.example", "name": "Support", "role": "member"},
	])
}

test_a_look_alike_domain_is_denied if {
	count(partner_admins.deny) == 1 with input as partner([
		{"email": "ops@acme.example.evil.example", "name": "Evil", "role": "admin"},
	])
}
