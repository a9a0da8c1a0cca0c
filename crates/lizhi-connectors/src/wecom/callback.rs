//! The events Lizhi reads from decrypted WeCom callbacks: a button pressed on a template card
//! (`template_card_event`) and a status change of an approval in WeCom's 审批 app (`sys_approval_change`).

use super::crypto::CryptoError;
use super::xml::fields;
use serde::Serialize;

/// One callback message, as far as Lizhi uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CallbackEvent {
    /// A member pressed a button on a template card.
    TemplateCardEvent {
        /// The member's userid (authenticated by WeCom).
        from_user: String,
        /// The pressed button's key.
        event_key: String,
        /// The card's task id, as Lizhi set it.
        task_id: String,
        /// `button_interaction`, …
        card_type: String,
        /// Unix seconds.
        create_time: i64,
        /// The one-time code to update the pressed card with (valid 72 hours), empty when absent.
        response_code: String,
    },
    /// An approval in WeCom's 审批 app changed.
    SysApprovalChange {
        /// The approval's number.
        sp_no: String,
        /// Its template's name.
        sp_name: String,
        /// 1 pending, 2 approved, 3 rejected, 4 withdrawn, 6 withdrawn after approval, 7 deleted, 10 paid.
        sp_status: i64,
        /// The template id.
        template_id: String,
        /// Who applied.
        applicant: String,
        /// What changed: 1 submitted, 2 approved, 3 rejected…
        change_event: i64,
    },
    /// Any other message or event (kept for the log).
    Other {
        /// `MsgType`.
        msg_type: String,
        /// `Event`, when an event.
        name: String,
    },
}

/// Reads a decrypted callback message (its `<xml>`). Unknown events are [`CallbackEvent::Other`]; a known
/// event missing what Lizhi needs is refused.
pub fn parse_event(xml: &str) -> Result<CallbackEvent, CryptoError> {
    let fields = fields(xml)?;
    let get = |path: &str| fields.iter().find(|(p, _)| p == path).map(|(_, v)| v.trim().to_owned());
    let need = |path: &'static str| get(path).filter(|v| !v.is_empty()).ok_or(CryptoError::BadXml(path));
    let number = |path: &str| get(path).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    let msg_type = get("MsgType").unwrap_or_default();
    let name = get("Event").unwrap_or_default();
    Ok(match (msg_type.as_str(), name.as_str()) {
        ("event", "template_card_event") => CallbackEvent::TemplateCardEvent {
            from_user: need("FromUserName")?,
            event_key: need("EventKey")?,
            task_id: need("TaskId")?,
            card_type: get("CardType").unwrap_or_default(),
            create_time: number("CreateTime"),
            response_code: get("ResponseCode").unwrap_or_default(),
        },
        ("event", "sys_approval_change") => CallbackEvent::SysApprovalChange {
            sp_no: need("ApprovalInfo.SpNo")?,
            sp_name: get("ApprovalInfo.SpName").unwrap_or_default(),
            sp_status: number("ApprovalInfo.SpStatus"),
            template_id: get("ApprovalInfo.TemplateId").unwrap_or_default(),
            applicant: get("ApprovalInfo.Applyer.UserId").unwrap_or_default(),
            change_event: number("ApprovalInfo.StatuChangeEvent"),
        },
        _ => CallbackEvent::Other { msg_type, name },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_presses_and_approval_changes_are_read() {
        let press = "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[LiSi]]></FromUserName>\
            <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
            <Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[approve]]></EventKey>\
            <TaskId><![CDATA[lz1s2u3]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>\
            <ResponseCode><![CDATA[rc]]></ResponseCode><AgentID>1000002</AgentID></xml>";
        assert_eq!(
            parse_event(press).expect("press"),
            CallbackEvent::TemplateCardEvent {
                from_user: "LiSi".into(),
                event_key: "approve".into(),
                task_id: "lz1s2u3".into(),
                card_type: "button_interaction".into(),
                create_time: 1_700_000_000,
                response_code: "rc".into(),
            }
        );
        let change = "<xml><ToUserName>ww1</ToUserName><FromUserName>sys</FromUserName><CreateTime>1</CreateTime>\
            <MsgType>event</MsgType><Event>sys_approval_change</Event><AgentID>3010040</AgentID>\
            <ApprovalInfo><SpNo>202611280001</SpNo><SpName>离职审批 &amp; 交接</SpName><SpStatus>2</SpStatus>\
            <TemplateId>tpl</TemplateId><ApplyTime>1</ApplyTime><Applyer><UserId>WangWu</UserId><Party>2</Party>\
            </Applyer><StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>";
        let CallbackEvent::SysApprovalChange { sp_no, sp_name, sp_status, applicant, change_event, .. } =
            parse_event(change).expect("change")
        else {
            panic!("not an approval change");
        };
        assert_eq!((sp_no.as_str(), sp_name.as_str(), sp_status), ("202611280001", "离职审批 & 交接", 2));
        assert_eq!((applicant.as_str(), change_event), ("WangWu", 2));
        let text = "<xml><MsgType>text</MsgType><Content>hi</Content></xml>";
        assert_eq!(parse_event(text).expect("text"), CallbackEvent::Other { msg_type: "text".into(), name: "".into() });
        let no_task = "<xml><MsgType>event</MsgType><Event>template_card_event</Event><FromUserName>a</FromUserName>\
            <EventKey>approve</EventKey></xml>";
        assert!(parse_event(no_task).is_err());
        assert!(parse_event("<!DOCTYPE x><xml/>").is_err());
    }
}
