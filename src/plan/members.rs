//! Stage `plan`, members of one account: users (matched by email, case-insensitively) and
//! services (matched by type), with the unmatched live ones pruned or listed as unmanaged. Pure.

use std::collections::HashSet;

use super::operation::{AccountRef, Change, Membership, Operation, Person, UserRef};
use super::planner::Planner;
use super::{Unmanaged, UnmanagedClass, UnmanagedObject, UnmanagedReason};
use crate::config;
use crate::live;
use crate::vocab::UserStatus;
use crate::vocab::rules::{email_key, same_email};

impl<'l> Planner<'l> {
    /// Users and services of one account (the partner's services list is always empty).
    pub(super) fn members(
        &mut self,
        account: &AccountRef,
        live_id: Option<&'l str>,
        users: &[config::User],
        services: &[config::Service],
        creator: Option<usize>,
    ) {
        self.users(account, live_id, users, creator);
        self.services(account, live_id, services, creator);
    }

    fn users(
        &mut self,
        account: &AccountRef,
        live_id: Option<&'l str>,
        users: &[config::User],
        creator: Option<usize>,
    ) {
        let live_users: Vec<&'l live::User> = live_id
            .and_then(|id| self.ix.users_by_account.get(id).cloned())
            .unwrap_or_default();
        let mut seen: HashSet<&str> = HashSet::new();
        for u in users {
            let found = live_users.iter().find(|l| same_email(&l.email, &u.email));
            match found {
                None => {
                    let change = Change::Invite(Person {
                        email: u.email.clone(),
                        name: u.name.clone(),
                        role: u.role,
                    });
                    let mut op = Operation::new(account.clone(), change);
                    op.depends_on.extend(creator);
                    self.push(op);
                }
                Some(l) => {
                    seen.insert(l.id.as_str());
                    self.matched_user(account, u, l);
                }
            }
        }
        for l in live_users {
            if !seen.contains(l.id.as_str()) {
                self.unmatched_user(account, l);
            }
        }
    }

    /// A desired user found live: a name or role change goes first, with the snapshot's etag;
    /// a re-sent invitation then carries the new name (and needs no etag).
    fn matched_user(&mut self, account: &AccountRef, u: &config::User, l: &live::User) {
        let user = || UserRef {
            id: l.id.clone(),
            email: email_key(&u.email),
        };
        let mut update = None;
        if l.name != u.name || l.role != u.role {
            let change = Change::UpdateUser {
                user: user(),
                etag: l.etag.clone(),
                before: Membership {
                    name: l.name.clone(),
                    role: l.role,
                },
                after: Membership {
                    name: u.name.clone(),
                    role: u.role,
                },
            };
            update = Some(self.push(Operation::new(account.clone(), change)));
        }
        match l.status {
            UserStatus::Expired => {
                let mut op = Operation::new(account.clone(), Change::Resend { user: user() });
                op.depends_on.extend(update);
                self.push(op);
            }
            UserStatus::Invited => self.pending += 1,
            UserStatus::Active => {}
        }
    }

    fn unmatched_user(&mut self, account: &AccountRef, l: &live::User) {
        let user = UserRef {
            id: l.id.clone(),
            email: email_key(&l.email),
        };
        if !self.options.prune {
            self.login_follows(account, l, &user);
            let class = UnmanagedClass::of_user(l.status);
            self.unmanaged.push(Unmanaged {
                address: account.user_address(&l.email),
                class,
                reason: UnmanagedReason::PruneRemoves,
                object: UnmanagedObject::User {
                    email: l.email.clone(),
                    name: l.name.clone(),
                    role: l.role,
                    status: l.status,
                    account: account.address(),
                },
            });
            return;
        }
        let (etag, status) = (l.etag.clone(), l.status);
        let was = Person {
            email: l.email.clone(),
            name: l.name.clone(),
            role: l.role,
        };
        let change = match l.status {
            UserStatus::Active => Change::RemoveUser {
                user,
                etag,
                was,
                status,
            },
            UserStatus::Invited | UserStatus::Expired => Change::Revoke {
                user,
                etag,
                was,
                status,
            },
        };
        self.push(Operation::new(account.clone(), change));
    }

    /// A live membership the configuration does not list, of a login it lists elsewhere, where
    /// the login has one role and one name: the configured ones reach this membership too, so
    /// the change is planned here as well (the reviewer sees it; the guards count it).
    pub(super) fn login_follows(&mut self, account: &AccountRef, l: &live::User, user: &UserRef) {
        let Some((role, name)) = self.logins.get(&user.email) else {
            return;
        };
        if l.role == *role && l.name == *name {
            return;
        }
        let change = Change::UpdateUser {
            user: user.clone(),
            etag: l.etag.clone(),
            before: Membership {
                name: l.name.clone(),
                role: l.role,
            },
            after: Membership {
                name: name.clone(),
                role: *role,
            },
        };
        self.push(Operation::new(account.clone(), change));
    }

    fn services(
        &mut self,
        account: &AccountRef,
        live_id: Option<&'l str>,
        services: &[config::Service],
        creator: Option<usize>,
    ) {
        let live_services: Vec<&'l live::Service> = live_id
            .and_then(|id| self.ix.services_by_account.get(id).cloned())
            .unwrap_or_default();
        let mut seen: HashSet<&str> = HashSet::new();
        for s in services {
            let found = live_services
                .iter()
                .find(|l| l.service_type == s.service_type);
            match found {
                None => {
                    let change = Change::AddService {
                        service_type: s.service_type.clone(),
                        settings: s.settings.clone(),
                    };
                    let mut op = Operation::new(account.clone(), change);
                    op.depends_on.extend(creator);
                    self.push(op);
                }
                Some(l) => {
                    seen.insert(l.service_type.as_str());
                    // The same settings have the same defaults: only different ones can differ.
                    if l.settings != s.settings
                        && self.catalog.with_defaults(&l.service_type, &l.settings)
                            != self.catalog.with_defaults(&s.service_type, &s.settings)
                    {
                        let change = Change::UpdateService {
                            service_type: s.service_type.clone(),
                            etag: l.etag.clone(),
                            before: l.settings.clone(),
                            after: s.settings.clone(),
                        };
                        self.push(Operation::new(account.clone(), change));
                    }
                }
            }
        }
        for l in live_services {
            if !seen.contains(l.service_type.as_str()) {
                self.unmatched_service(account, l);
            }
        }
    }

    fn unmatched_service(&mut self, account: &AccountRef, l: &live::Service) {
        if self.options.prune {
            let change = Change::RemoveService {
                service_type: l.service_type.clone(),
                etag: l.etag.clone(),
                settings: l.settings.clone(),
            };
            self.push(Operation::new(account.clone(), change));
        } else {
            self.unmanaged.push(Unmanaged {
                address: account.service_address(&l.service_type),
                class: UnmanagedClass::Service,
                reason: UnmanagedReason::PruneRemoves,
                object: UnmanagedObject::Service {
                    service_type: l.service_type.clone(),
                    account: account.address(),
                },
            });
        }
    }
}
