// volcard staff console: the labels of every code the API answers with
// (application states, channels, roles, on-site, card and bank-request
// states ...), in Chinese and English, in one table. api/console_test.go
// checks it against the enums of the OpenAPI document. Strict JSON inside.
"use strict";
const LABELS = {
  "status": {
    "submitted": {"zh": "已提交（待审核）", "en": "Submitted"},
    "approved": {"zh": "已审核通过", "en": "Approved"},
    "rejected": {"zh": "已驳回", "en": "Rejected"},
    "bank_pending": {"zh": "已报送银行", "en": "Sent to the bank"},
    "bank_approved": {"zh": "银行已开户（待制卡）", "en": "Bank approved"},
    "bank_declined": {"zh": "银行已拒绝", "en": "Bank declined"},
    "personalized": {"zh": "已制卡", "en": "Personalized"},
    "issued": {"zh": "已发卡", "en": "Issued"},
    "activated": {"zh": "已激活", "en": "Activated"},
    "cancelled": {"zh": "已撤销", "en": "Cancelled"}
  },
  "channel": {
    "platform": {"zh": "i志愿平台", "en": "Volunteer platform"},
    "online": {"zh": "网上申请", "en": "Online"},
    "branch": {"zh": "银行网点", "en": "Bank branch"},
    "on_site": {"zh": "现场办卡", "en": "On site"},
    "console": {"zh": "管理台", "en": "Console"},
    "system": {"zh": "系统", "en": "System"}
  },
  "role": {
    "province_admin": {"zh": "省级管理员", "en": "Province admin"},
    "org_admin": {"zh": "组织管理员", "en": "Organisation admin"},
    "bank_staff": {"zh": "银行网点工作人员", "en": "Bank branch staff"},
    "terminal": {"zh": "签到终端", "en": "Check-in terminal"},
    "platform": {"zh": "志愿服务平台", "en": "Volunteer platform"},
    "hotline": {"zh": "服务热线坐席", "en": "Hotline agent"},
    "system": {"zh": "系统", "en": "System"},
    "holder": {"zh": "持卡人", "en": "Card holder"}
  },
  "session": {
    "requested": {"zh": "已申请", "en": "Requested"},
    "scheduled": {"zh": "已排期", "en": "Scheduled"},
    "in_progress": {"zh": "进行中", "en": "In progress"},
    "completed": {"zh": "已完成", "en": "Completed"},
    "cancelled": {"zh": "已取消", "en": "Cancelled"}
  },
  "card": {
    "issued": {"zh": "已发卡（未激活）", "en": "Issued (not activated)"},
    "active": {"zh": "正常", "en": "Active"},
    "blocked": {"zh": "已冻结", "en": "Blocked"},
    "replaced": {"zh": "已换卡", "en": "Replaced"},
    "closed": {"zh": "已销户", "en": "Closed"},
    "cancelled": {"zh": "已注销", "en": "Cancelled"},
    "expired": {"zh": "已过期", "en": "Expired"},
    "block_pending": {"zh": "冻结处理中", "en": "Block pending"},
    "unblock_pending": {"zh": "解冻处理中", "en": "Unblock pending"},
    "replace_pending": {"zh": "换卡处理中", "en": "Replacement pending"},
    "renew_pending": {"zh": "续卡处理中", "en": "Renewal pending"},
    "close_pending": {"zh": "销户处理中", "en": "Closing pending"}
  },
  "change": {
    "block": {"zh": "冻结（挂失）", "en": "Block"},
    "unblock": {"zh": "解冻", "en": "Unblock"},
    "replace": {"zh": "换卡", "en": "Replace"},
    "renew": {"zh": "续卡（到期换新）", "en": "Renew"},
    "close": {"zh": "销户", "en": "Close"}
  },
  "card_event": {
    "requested": {"zh": "已申请", "en": "Requested"},
    "confirmed": {"zh": "银行已确认", "en": "Confirmed by the bank"},
    "refused": {"zh": "银行已拒绝", "en": "Refused by the bank"},
    "issued": {"zh": "新卡已发", "en": "New card issued"},
    "expired": {"zh": "已过期", "en": "Expired"}
  },
  "bank_request": {
    "pending": {"zh": "待发送", "en": "Pending"},
    "in_flight": {"zh": "发送中", "en": "In flight"},
    "sent": {"zh": "已发送", "en": "Sent"},
    "waiting": {"zh": "等待重试", "en": "Waiting"},
    "done": {"zh": "已完成", "en": "Done"},
    "failed": {"zh": "失败", "en": "Failed"},
    "cancelled": {"zh": "已放弃", "en": "Cancelled"}
  },
  "bank_kind": {
    "apply": {"zh": "开卡申请", "en": "Card application"},
    "reversal": {"zh": "冲正", "en": "Reversal"},
    "status_change": {"zh": "卡状态变更", "en": "Status change"},
    "holder_update": {"zh": "持卡人信息变更", "en": "Holder update"},
    "inquiry": {"zh": "查询", "en": "Inquiry"}
  },
  "personalize": {
    "pending": {"zh": "待制卡", "en": "Pending"},
    "personalized": {"zh": "已制卡", "en": "Personalized"},
    "failed": {"zh": "制卡失败", "en": "Failed"},
    "skipped": {"zh": "已跳过", "en": "Skipped"}
  },
  "org_kind": {
    "province": {"zh": "省", "en": "Province"},
    "city": {"zh": "地市", "en": "City"},
    "county": {"zh": "区县", "en": "County"},
    "university": {"zh": "高校", "en": "University"},
    "unit": {"zh": "单位", "en": "Unit"}
  },
  "row": {
    "accepted": {"zh": "有效", "en": "Accepted"},
    "rejected": {"zh": "无效", "en": "Rejected"}
  },
  "id_type": {
    "resident_id": {"zh": "居民身份证", "en": "Resident ID"},
    "passport": {"zh": "护照", "en": "Passport"},
    "hk_macau_permit": {"zh": "港澳居民来往内地通行证", "en": "Hong Kong/Macau permit"},
    "taiwan_permit": {"zh": "台湾居民来往大陆通行证", "en": "Taiwan permit"}
  },
  "card_kind": {
    "debit": {"zh": "借记卡", "en": "Debit"},
    "credit": {"zh": "贷记卡", "en": "Credit"}
  },
  "gender": {
    "male": {"zh": "男", "en": "Male"},
    "female": {"zh": "女", "en": "Female"}
  },
  "tier": {
    "none": {"zh": "无（未持卡）", "en": "None (no card)"},
    "card_holder": {"zh": "持卡志愿者", "en": "Card holder"},
    "star": {"zh": "星级志愿者", "en": "Star volunteer"},
    "five_star": {"zh": "五星级志愿者", "en": "Five-star volunteer"}
  },
  "rating": {
    "green": {"zh": "达标", "en": "On target"},
    "amber": {"zh": "接近（≥80%）", "en": "Close (≥80%)"},
    "red": {"zh": "未达标", "en": "Behind"},
    "none": {"zh": "无目标", "en": "No target"}
  },
  "close_reason": {
    "holder_left": {"zh": "持卡人退出", "en": "Holder left"},
    "deceased": {"zh": "持卡人身故", "en": "Deceased"},
    "replaced": {"zh": "已换用其他卡", "en": "Given up for another card"},
    "holder_request": {"zh": "持卡人申请", "en": "Holder's request"}
  },
  "spending": {
    "purchase": {"zh": "消费", "en": "Purchase"},
    "refund": {"zh": "退货", "en": "Refund"},
    "reversal": {"zh": "冲正", "en": "Reversal"},
    "activation": {"zh": "激活", "en": "Activation"}
  },
  "renewal": {
    "pending": {"zh": "银行处理中", "en": "At the bank"},
    "renewed": {"zh": "已换发", "en": "Renewed"},
    "refused": {"zh": "银行拒绝", "en": "Refused"},
    "skipped": {"zh": "已跳过", "en": "Skipped"}
  },
  "delivery": {
    "pending": {"zh": "待推送", "en": "Pending"},
    "delivered": {"zh": "已送达", "en": "Delivered"},
    "failed": {"zh": "失败", "en": "Failed"}
  },
  "platform_request": {
    "pending": {"zh": "待发送", "en": "Pending"},
    "in_flight": {"zh": "发送中", "en": "In flight"},
    "done": {"zh": "已完成", "en": "Done"},
    "failed": {"zh": "失败", "en": "Failed"}
  }
};
