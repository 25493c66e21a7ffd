# Tests of change_limit.rego: `partnerctl policy test examples/policies`.
package partnerctl.change_limit_test

import data.partnerctl.change_limit

# A configuration of customers c1..cN (the first `labelled` of them labelled), each with a
# network and a sub-account, and a plan of one operation in each of the first `changed`.
estate(n, changed, labelled, where) := {
	"configuration": {"customers": [c |
		some i in numbers.range(1, n)
		c := {
			"key": sprintf("c%d", [i]),
			"labels": labels(i, labelled),
			"networks": [{"key": sprintf("c%d-net", [i]), "sub_accounts": [{"key": sprintf("c%d-sub", [i])}]}],
		}
	]},
	"plan": {"operations": [op |
		some i in numbers.range(1, changed)
		op := {"action": "update", "account": {"type": "account", "kind": where, "key": key(i, where)}}
	]},
}

labels(i, labelled) := {"change-approved": "CHG-1"} if i <= labelled

labels(i, labelled) := {} if i > labelled

key(i, "customer") := sprintf("c%d", [i])

key(i, "network") := sprintf("c%d-net", [i])

key(i, "sub_account") := sprintf("c%d-sub", [i])

test_five_customers_changed_are_allowed if {
	count(change_limit.deny) == 0 with input as estate(10, 5, 0, "customer")
}

test_six_customers_changed_are_denied if {
	denials := change_limit.deny with input as estate(10, 6, 0, "customer")
	count(denials) == 1
	some msg in denials
	startswith(msg, "the plan changes 6 customers without the label change-approved, more than 5 (c1, c2, c3, c4, c5, c6)")
}

test_changes_below_a_customer_count_for_it if {
	count(change_limit.deny) == 1 with input as estate(10, 6, 0, "sub_account")
	count(change_limit.deny) == 1 with input as estate(10, 6, 0, "network")
}

test_labelled_customers_do_not_count if {
	count(change_limit.deny) == 0 with input as estate(20, 15, 10, "customer")
	count(change_limit.deny) == 1 with input as estate(20, 16, 10, "customer")
}

test_operations_of_the_partner_do_not_count if {
	partner_ops := [{"action": "invite", "account": {"type": "partner"}} | some _ in numbers.range(1, 10)]
	some_customers := estate(10, 5, 0, "customer")
	ops := array.concat(partner_ops, some_customers.plan.operations)
	count(change_limit.deny) == 0 with input as object.union(some_customers, {"plan": {"operations": ops}})
}

test_deleted_customers_count if {
	ops := [{"action": "delete", "account": {"type": "account", "kind": "customer", "key": sprintf("gone%d", [i])}} | some i in numbers.range(1, 6)]
	count(change_limit.deny) == 1 with input as {"configuration": {"customers": []}, "plan": {"operations": ops}}
}

test_deleted_networks_and_sub_accounts_do_not_count_as_customers if {
	ops := [{"action": "delete", "account": {"type": "account", "kind": kind, "key": sprintf("gone-%s%d", [kind, i])}} |
		some kind in ["network", "sub_account"]
		some i in numbers.range(1, 6)
	]
	count(change_limit.deny) == 0 with input as {"configuration": {"customers": []}, "plan": {"operations": ops}}
}

test_a_long_list_is_cut if {
	some msg in change_limit.deny with input as estate(30, 30, 0, "customer")
	endswith(msg, ", and 20 more): split the change, or label each customer it changes with `change-approved: <ticket>`")
}

test_many_operations_of_one_customer_count_once if {
	five := estate(10, 5, 0, "customer")
	ops := array.concat(five.plan.operations, five.plan.operations)
	count(change_limit.deny) == 0 with input as object.union(five, {"plan": {"operations": ops}})
}
