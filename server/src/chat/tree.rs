//! The conversation tree. Every message follows its `parent_id` (null for a first message);
//! messages with one parent are siblings (an edited question's versions, a reply's
//! regenerations), ordered by creation (ids are UUIDv7). A conversation shows one branch:
//! the path from a first message to its `current_leaf_id`. Nothing is ever removed by
//! editing or regenerating, so an abandoned branch is still there to switch back to.
//!
//! A tree is read as its shape only (ids and parents, 32 bytes a message), never its text.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::db::{
    entities::{conversations, messages},
    writer::WriteConn,
};

/// A message's place among its siblings, for `‹ n/m ›`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Siblings {
    /// 1-based.
    pub index: i32,
    pub count: i32,
    pub prev: Option<Uuid>,
    pub next: Option<Uuid>,
}

impl Siblings {
    /// A message with no siblings (a new reply to a new question).
    pub const ONLY: Siblings = Siblings {
        index: 1,
        count: 1,
        prev: None,
        next: None,
    };

    /// `id`'s place in `ids` (every child of one parent, oldest first).
    fn within(ids: &[Uuid], id: Uuid) -> Siblings {
        let Some(at) = ids.iter().position(|s| *s == id) else {
            return Siblings::ONLY;
        };
        Siblings {
            index: i32::try_from(at + 1).unwrap_or(i32::MAX),
            count: i32::try_from(ids.len()).unwrap_or(i32::MAX),
            prev: at.checked_sub(1).map(|p| ids[p]),
            next: ids.get(at + 1).copied(),
        }
    }
}

/// The siblings of one message, read with one indexed query (for a view of a single message:
/// an event, a stop, a regenerated reply).
pub async fn siblings_of(
    db: &impl WriteConn,
    message: &messages::Model,
) -> Result<Siblings, sea_orm::DbErr> {
    siblings_under(db, message.conversation_id, message.parent_id, message.id).await
}

/// The place of message `id` among the children of `parent` (`None`: the first messages).
pub async fn siblings_under(
    db: &impl WriteConn,
    conversation_id: Uuid,
    parent: Option<Uuid>,
    id: Uuid,
) -> Result<Siblings, sea_orm::DbErr> {
    let mut query = messages::Entity::find()
        .select_only()
        .column(messages::Column::Id)
        .filter(messages::Column::ConversationId.eq(conversation_id))
        .order_by_asc(messages::Column::Id);
    query = match parent {
        Some(parent) => query.filter(messages::Column::ParentId.eq(parent)),
        None => query.filter(messages::Column::ParentId.is_null()),
    };
    let ids = db.read_uuids(db.build(&query)).await?;
    Ok(Siblings::within(&ids, id))
}

/// The messages up a branch from `from` (included), newest first, at most `depth` of them, as
/// `(id, parent_id)`: one recursive query that follows the parents by primary key, so a page
/// of a long conversation reads its page, not the conversation. Empty when `from` is not a
/// message of the conversation.
pub async fn path_up(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    from: Uuid,
    depth: u64,
) -> Result<Vec<(Uuid, Option<Uuid>)>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let at = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let sql = format!(
        "WITH RECURSIVE path(id, parent_id, depth) AS (\
            SELECT id, parent_id, 1 FROM messages WHERE id = {} AND conversation_id = {} \
            UNION ALL \
            SELECT m.id, m.parent_id, path.depth + 1 FROM messages m \
            JOIN path ON m.id = path.parent_id \
            WHERE path.depth < {} AND m.conversation_id = {}\
        ) SELECT id, parent_id FROM path ORDER BY depth",
        at(1),
        at(2),
        at(3),
        at(4)
    );
    let depth = i64::try_from(depth).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                from.into(),
                conversation_id.into(),
                depth.into(),
                conversation_id.into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "parent_id")?)))
        .collect()
}

/// Whether `id` is a message of the conversation (one primary-key lookup).
pub async fn holds(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    id: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    let found: Option<Uuid> = messages::Entity::find_by_id(id)
        .select_only()
        .column(messages::Column::Id)
        .filter(messages::Column::ConversationId.eq(conversation_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// The end of the branch shown: the conversation's current leaf while it is one of its
/// messages (one lookup), else the newest leaf of the whole tree (read whole only then: no
/// leaf recorded, or it was deleted), `None` for an empty conversation.
pub async fn shown_leaf(
    db: &impl ConnectionTrait,
    conversation: &conversations::Model,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    if let Some(leaf) = conversation.current_leaf_id {
        if holds(db, conversation.id, leaf).await? {
            return Ok(Some(leaf));
        }
    }
    if conversation.message_count == 0 {
        // A new conversation: nothing to read (every message stored is counted).
        return Ok(None);
    }
    Ok(Tree::load(db, conversation.id).await?.newest_leaf())
}

/// The children of each of `parents` (`None`: the first messages), oldest first: the
/// siblings of the messages of a page, read with one indexed query.
pub async fn children_of(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    parents: &[Option<Uuid>],
) -> Result<HashMap<Option<Uuid>, Vec<Uuid>>, sea_orm::DbErr> {
    let named: Vec<Uuid> = parents.iter().flatten().copied().collect();
    let mut which = Condition::any().add(messages::Column::ParentId.is_in(named));
    if parents.contains(&None) {
        which = which.add(messages::Column::ParentId.is_null());
    }
    let rows: Vec<(Uuid, Option<Uuid>)> = messages::Entity::find()
        .select_only()
        .columns([messages::Column::Id, messages::Column::ParentId])
        .filter(messages::Column::ConversationId.eq(conversation_id))
        .filter(which)
        .order_by_asc(messages::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut children: HashMap<Option<Uuid>, Vec<Uuid>> = HashMap::new();
    for (id, parent) in rows {
        children.entry(parent).or_default().push(id);
    }
    Ok(children)
}

impl Siblings {
    /// `id`'s place among the children of its parent, as [`children_of`] read them.
    pub fn among(
        children: &HashMap<Option<Uuid>, Vec<Uuid>>,
        parent: Option<Uuid>,
        id: Uuid,
    ) -> Siblings {
        children
            .get(&parent)
            .map_or(Siblings::ONLY, |ids| Siblings::within(ids, id))
    }
}

/// The shape of one conversation's tree.
#[derive(Debug, Default)]
pub struct Tree {
    /// Every message, oldest first.
    order: Vec<Uuid>,
    parents: HashMap<Uuid, Option<Uuid>>,
    /// Each parent's children (`None`: the first messages), oldest first.
    children: HashMap<Option<Uuid>, Vec<Uuid>>,
}

impl Tree {
    pub async fn load(
        db: &impl ConnectionTrait,
        conversation_id: Uuid,
    ) -> Result<Tree, sea_orm::DbErr> {
        let rows: Vec<(Uuid, Option<Uuid>)> = messages::Entity::find()
            .select_only()
            .columns([messages::Column::Id, messages::Column::ParentId])
            .filter(messages::Column::ConversationId.eq(conversation_id))
            .order_by_asc(messages::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        Ok(Tree::of(rows))
    }

    /// From `(id, parent_id)` pairs, oldest first.
    pub fn of(rows: Vec<(Uuid, Option<Uuid>)>) -> Tree {
        let mut tree = Tree::default();
        for (id, parent) in rows {
            tree.order.push(id);
            tree.parents.insert(id, parent);
            tree.children.entry(parent).or_default().push(id);
        }
        tree
    }

    pub fn contains(&self, id: Uuid) -> bool {
        self.parents.contains_key(&id)
    }

    /// Every message, oldest first.
    pub fn ids(&self) -> &[Uuid] {
        &self.order
    }

    pub fn parent_of(&self, id: Uuid) -> Option<Uuid> {
        self.parents.get(&id).copied().flatten()
    }

    pub fn siblings(&self, id: Uuid) -> Siblings {
        match self.parents.get(&id) {
            Some(parent) => Siblings::within(&self.children[parent], id),
            None => Siblings::ONLY,
        }
    }

    /// The branch ending at `leaf`: its first message to `leaf`, oldest first. Empty when
    /// `leaf` is not in the tree.
    pub fn path_to(&self, leaf: Uuid) -> Vec<Uuid> {
        let mut path = Vec::new();
        let mut at = Some(leaf).filter(|id| self.contains(*id));
        while let Some(id) = at {
            path.push(id);
            // A parent deleted with its subtree's root (SET NULL) ends the path there.
            at = self.parent_of(id).filter(|p| self.contains(*p));
        }
        path.reverse();
        path
    }

    /// The most recently created message with no children at or under `id`: where the
    /// branch through `id` was last written to.
    pub fn newest_leaf_under(&self, id: Uuid) -> Uuid {
        let mut newest = id;
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            match self.children.get(&Some(at)) {
                Some(children) if !children.is_empty() => stack.extend(children),
                _ => newest = newest.max(at),
            }
        }
        newest
    }

    /// The newest leaf of the whole tree, `None` when it is empty.
    pub fn newest_leaf(&self) -> Option<Uuid> {
        self.children
            .get(&None)
            .into_iter()
            .flatten()
            .map(|root| self.newest_leaf_under(*root))
            .max()
    }

    /// `id` and every message under it.
    pub fn subtree(&self, id: Uuid) -> Vec<Uuid> {
        let mut all = Vec::new();
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            all.push(at);
            if let Some(children) = self.children.get(&Some(at)) {
                stack.extend(children);
            }
        }
        all
    }

    /// The branch shown: to `current` when it is still in the tree, else to the newest leaf.
    pub fn branch(&self, current: Option<Uuid>) -> Vec<Uuid> {
        match current
            .filter(|id| self.contains(*id))
            .or(self.newest_leaf())
        {
            Some(leaf) => self.path_to(leaf),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids in creation order: `ids[i] < ids[i + 1]`.
    fn ids(n: usize) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_branch_runs_from_the_first_message_to_the_leaf_and_siblings_count_by_creation() {
        let m = ids(7);
        // m0 → m1 → m2 → m3;  m1 → m4 (a regenerated reply) → m5;  m0's sibling m6 (an edit).
        let tree = Tree::of(vec![
            (m[0], None),
            (m[1], Some(m[0])),
            (m[2], Some(m[1])),
            (m[3], Some(m[2])),
            (m[4], Some(m[0])),
            (m[5], Some(m[4])),
            (m[6], None),
        ]);
        assert_eq!(tree.path_to(m[3]), vec![m[0], m[1], m[2], m[3]]);
        assert_eq!(tree.path_to(m[5]), vec![m[0], m[4], m[5]]);
        assert_eq!(
            tree.siblings(m[4]),
            Siblings {
                index: 2,
                count: 2,
                prev: Some(m[1]),
                next: None
            }
        );
        assert_eq!(tree.siblings(m[0]).next, Some(m[6]));
        assert_eq!(tree.siblings(m[2]), Siblings::ONLY);
        assert_eq!(tree.newest_leaf_under(m[0]), m[5]);
        assert_eq!(tree.newest_leaf_under(m[1]), m[3]);
        assert_eq!(tree.newest_leaf(), Some(m[6]));
        assert_eq!(tree.branch(Some(m[3])).len(), 4);
        assert_eq!(tree.branch(Some(Uuid::now_v7())), vec![m[6]]);
        let mut under = tree.subtree(m[1]);
        under.sort();
        assert_eq!(under, vec![m[1], m[2], m[3]]);
    }
}
