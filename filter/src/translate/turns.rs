//! Conversation turns as Anthropic's Messages API and Bedrock's Converse take them: a
//! role and its content blocks, roles alternating.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One turn; `B` is the API's content block.
#[derive(Debug, Serialize)]
pub struct Turn<B> {
    pub role: Role,
    pub content: Vec<B>,
}

/// Adds `blocks` as a turn of `role`. Both APIs want strictly alternating roles, so a
/// turn of the last turn's role is merged into it (parallel tool results become one
/// user turn).
pub fn push<B>(turns: &mut Vec<Turn<B>>, role: Role, blocks: Vec<B>) {
    match turns.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => turns.push(Turn {
            role,
            content: blocks,
        }),
    }
}
