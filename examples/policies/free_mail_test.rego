# Tests of free_mail.rego: `partnerctl policy test examples/policies`.
package partnerctl.free_mail_test

import data.partnerctl.free_mail

invite(email) := {
	"action": "invite",
	"address": sprintf("customer.contoso.user[%s]", [lower(email)]),
	"after": {"email": email, "name": "Someone", "role": "member"},
}

plan(ops) := {"plan": {"operations": ops}}

test_work_addresses_are_allowed if {
	count(free_mail.deny) == 0 with input as plan([invite("jane@contoso.example")])
}

test_a_gmail_invitation_is_denied_with_its_address if {
	denials := free_mail.deny with input as plan([invite("jane@contoso.example"), invite("Jane.Doe@GMail.com")])
	[d.address | some d in denials] == ["customer.contoso.user[jane.doe@gmail.com]"]
}

test_a_resent_invitation_is_denied if {
	resend := {"action": "resend", "address": "customer.contoso.user[old@hotmail.com]", "before": {"status": "expired"}}
	count(free_mail.deny) == 1 with input as plan([resend])
}

test_other_operations_are_not_invitations if {
	update := {"action": "update-user", "address": "customer.contoso.user[x@gmail.com]", "after": {"email": "x@gmail.com"}}
	count(free_mail.deny) == 0 with input as plan([update])
}

test_a_free_mail_name_inside_a_work_domain_is_allowed if {
	count(free_mail.deny) == 0 with input as plan([invite("gmail.com@contoso.example")])
}
