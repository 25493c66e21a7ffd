# At most a few customers changed per plan, unless the change is labelled.
#
# A pull request that changes many customers at once (a bulk edit, a wrong default, a script
# gone astray) is refused unless each customer it changes carries the label `change-approved`
# in the configuration, naming the change (a ticket, say). Customers created count as changed.
# Remove the labels in a later change, or give the next bulk change a label value of its own.
package partnerctl.change_limit

# The most customers one plan may change without the label.
max_customers := 5

# The label that approves a change of its customer.
approval_label := "change-approved"

# The customer of every account the configuration lists, by the account's key: an object
# built once, looked up by key.
customer_of := object.union_n([
	{c.key: c.key | some c in input.configuration.customers},
	{n.key: c.key | some c in input.configuration.customers; some n in c.networks},
	{s.key: c.key |
		some c in input.configuration.customers
		some n in c.networks
		some s in n.sub_accounts
	},
])

# The keys of the accounts the plan's operations act on or in, each once however many
# operations it has (the partner's own operations name the partner, which has no key).
keys := {op.account.key | some op in input.plan.operations}

# The customers the plan changes: those of every account an operation acts on or in.
changed contains customer if {
	some key in keys
	customer := customer_of[key]
}

# The keys of accounts the configuration does not list (deleted): usually none.
unlisted := {key | some key in keys; not customer_of[key]}

# A customer the configuration no longer lists, deleted, counts too.
changed contains key if {
	count(unlisted) > 0
	some op in input.plan.operations
	op.account.kind == "customer"
	key := op.account.key
	unlisted[key]
}

approved contains c.key if {
	some c in input.configuration.customers
	c.labels[approval_label]
}

unapproved := changed - approved

deny contains msg if {
	# Only a plan that changes many customers reads their labels.
	count(changed) > max_customers
	count(unapproved) > max_customers
	shown := array.slice(sort(unapproved), 0, 10)
	msg := sprintf(
		"the plan changes %d customers without the label %s, more than %d (%s%s): split the change, or label each customer it changes with `%s: <ticket>`",
		[count(unapproved), approval_label, max_customers, concat(", ", shown), more(count(unapproved) - count(shown)), approval_label],
	)
}

more(0) := ""

more(n) := sprintf(", and %d more", [n]) if n > 0
