//! What a finished request is charged: the provider's reported usage, or an estimate
//! that says so. A client that stops reading, an upstream that cuts its answer or a body
//! Envoy could not hold still pays for what the provider produced.

use crate::usage::TokenUsage;

/// Where the charged counts come from (the access log's `usage=` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// As the provider reported them.
    Reported,
    /// A complete answer without usage, or a cut non-streaming one: the prompt estimate
    /// (and the answer's size).
    Estimated,
    /// A stream that ended before its final usage: the prompt as reported (else
    /// estimated) and at least the answer relayed to the client.
    Partial,
    /// A provider error without usage: nothing.
    None,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Reported => "reported",
            Basis::Estimated => "estimated",
            Basis::Partial => "partial",
            Basis::None => "none",
        }
    }

    pub fn estimated(self) -> bool {
        matches!(self, Basis::Estimated | Basis::Partial)
    }
}

/// How the request ended, as far as charging goes.
#[derive(Debug, Clone, Copy)]
pub struct Ending {
    pub usage: TokenUsage,
    /// The provider answered 2xx.
    pub accepted: bool,
    /// The client received the whole answer, and it was not an error.
    pub complete: bool,
    /// Prompt tokens estimated before the call.
    pub prompt_estimate: u64,
    /// A stream: characters of answer relayed to the client.
    pub relayed_chars: Option<u64>,
    /// A buffered answer: bytes received from the provider.
    pub received_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub prompt: u64,
    pub completion: u64,
    pub basis: Basis,
}

/// Characters (or bytes of an answer) to tokens, by the estimator's four per token.
fn tokens(chars: u64) -> u64 {
    chars.div_ceil(4)
}

pub fn charge(e: &Ending) -> Charge {
    let u = e.usage;
    let reported = |basis| Charge {
        prompt: u.prompt.unwrap_or(0),
        completion: u.completion.unwrap_or(0),
        basis,
    };
    if !e.accepted {
        return reported(if u.is_known() {
            Basis::Reported
        } else {
            Basis::None
        });
    }
    match e.relayed_chars {
        // A stream that ended early: the usage seen so far may stop at the prompt
        // (or at Anthropic's first output token); the text relayed is a floor.
        Some(chars) if !e.complete => Charge {
            prompt: u.prompt.unwrap_or(e.prompt_estimate),
            completion: u.completion.unwrap_or(0).max(tokens(chars)),
            basis: Basis::Partial,
        },
        _ if u.is_known() => reported(Basis::Reported),
        relayed => Charge {
            prompt: e.prompt_estimate,
            completion: match relayed {
                Some(chars) => tokens(chars),
                // An answer the client never got whole (cut, or over Envoy's buffer
                // limit): its size is what the provider produced.
                None if !e.complete => tokens(e.received_bytes),
                None => 0,
            },
            basis: Basis::Estimated,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(usage: TokenUsage) -> Ending {
        Ending {
            usage,
            accepted: true,
            complete: true,
            prompt_estimate: 10,
            relayed_chars: None,
            received_bytes: 0,
        }
    }

    fn known(prompt: u64, completion: u64) -> TokenUsage {
        TokenUsage {
            prompt: Some(prompt),
            completion: Some(completion),
            cached_prompt: None,
            reasoning: None,
        }
    }

    #[test]
    fn complete_answers_are_charged_as_reported_or_estimated() {
        let c = charge(&ending(known(3, 4)));
        assert_eq!((c.prompt, c.completion, c.basis), (3, 4, Basis::Reported));
        let c = charge(&ending(TokenUsage::default()));
        assert_eq!((c.prompt, c.completion, c.basis), (10, 0, Basis::Estimated));
        // A whole stream without usage: the text it carried.
        let c = charge(&Ending {
            relayed_chars: Some(9),
            ..ending(TokenUsage::default())
        });
        assert_eq!((c.prompt, c.completion, c.basis), (10, 3, Basis::Estimated));
    }

    #[test]
    fn abandoned_streams_pay_for_what_was_relayed() {
        // Nothing reported yet (OpenAI reports at the end).
        let c = charge(&Ending {
            complete: false,
            relayed_chars: Some(400),
            ..ending(TokenUsage::default())
        });
        assert_eq!((c.prompt, c.completion, c.basis), (10, 100, Basis::Partial));
        // Anthropic's message_start: the prompt and one output token.
        let c = charge(&Ending {
            complete: false,
            relayed_chars: Some(41),
            ..ending(known(25, 1))
        });
        assert_eq!((c.prompt, c.completion, c.basis), (25, 11, Basis::Partial));
        // The final usage came before the cut: it stands when larger.
        let c = charge(&Ending {
            complete: false,
            relayed_chars: Some(8),
            ..ending(known(25, 30))
        });
        assert_eq!((c.prompt, c.completion, c.basis), (25, 30, Basis::Partial));
    }

    #[test]
    fn cut_buffered_answers_pay_for_their_size() {
        let c = charge(&Ending {
            complete: false,
            received_bytes: 4_000_000,
            ..ending(TokenUsage::default())
        });
        assert_eq!(
            (c.prompt, c.completion, c.basis),
            (10, 1_000_000, Basis::Estimated)
        );
    }

    #[test]
    fn provider_errors_pay_what_was_reported() {
        let refused = |usage| Ending {
            accepted: false,
            complete: false,
            ..ending(usage)
        };
        let c = charge(&refused(TokenUsage::default()));
        assert_eq!((c.prompt, c.completion, c.basis), (0, 0, Basis::None));
        let c = charge(&refused(known(2, 0)));
        assert_eq!((c.prompt, c.completion, c.basis), (2, 0, Basis::Reported));
    }
}
