"""The demo company's static data: people, teams, customers, equipment, SLA policies, the service
catalogue with its SOPs, and ticket stories (中文 / English).

The Chinese and English texts here are demo content (what customers and engineers wrote), not interface
strings, so they are not translated. Only the login hints printed by `pledge demo` are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from pledge.accounts.choices import Role, TeamKind
from pledge.customers.choices import Industry, Tier
from pledge.standards.choices import CheckpointKind, ServiceCategory, StepOwner
from pledge.tickets.choices import Kind, Priority

COMPANY = "华锐精机 Huarui Precision Machinery"
# One password for every demo login; the demo is meant for a local machine only.
DEMO_PASSWORD = "pledge-demo"
TICKET_COUNT = 600
HISTORY_DAYS = 182
SEED = 20261122

ZhEn = tuple[str, str]


@dataclass(frozen=True)
class Equipment:
    code: str
    zh: str
    en: str
    category: str
    warranty_years: int

    @property
    def model(self) -> str:
        return f"HR-{self.code} {self.zh} · {self.en[0].upper()}{self.en[1:]}"

    def label(self, english: bool) -> str:
        """How people name the machine in a sentence."""
        return f"HR-{self.code} {self.en}" if english else f"HR-{self.code} {self.zh}"


MACHINING, LATHE, LASER, COMPRESSOR, INJECTION, PRESS = (
    "machining",
    "lathe",
    "laser",
    "compressor",
    "injection",
    "press",
)
CNC = (MACHINING, LATHE)
ANY_EQUIPMENT = (MACHINING, LATHE, LASER, COMPRESSOR, INJECTION, PRESS)
# The tag a ticket gets for its equipment category.
CATEGORY_TAGS = {
    MACHINING: "machining-centre",
    LATHE: "lathe",
    LASER: "laser",
    COMPRESSOR: "compressor",
    INJECTION: "injection-moulding",
    PRESS: "press-brake",
}

EQUIPMENT = {
    e.code: e
    for e in (
        Equipment("VMC850", "立式加工中心", "vertical machining centre", MACHINING, 2),
        Equipment("VMC1160", "立式加工中心", "vertical machining centre", MACHINING, 2),
        Equipment("HMC630", "卧式加工中心", "horizontal machining centre", MACHINING, 2),
        Equipment("TC400", "数控车床", "CNC lathe", LATHE, 2),
        Equipment("LC3015", "6 kW 光纤激光切割机", "6 kW fibre laser cutter", LASER, 1),
        Equipment("LC6020", "12 kW 光纤激光切割机", "12 kW fibre laser cutter", LASER, 1),
        Equipment("AC37", "37 kW 螺杆空压机", "37 kW screw air compressor", COMPRESSOR, 2),
        Equipment("AC75", "75 kW 变频螺杆空压机", "75 kW VSD screw air compressor", COMPRESSOR, 2),
        Equipment("IM280", "280 吨伺服注塑机", "280 t servo injection moulding machine", INJECTION, 2),
        Equipment("IM450", "450 吨伺服注塑机", "450 t servo injection moulding machine", INJECTION, 2),
        Equipment("PB160", "160 吨数控折弯机", "160 t CNC press brake", PRESS, 2),
    )
}


# --- People and teams -------------------------------------------------------------------------------

DESK, FIELD, TECH, PARTS = "desk", "field", "tech", "parts"


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    kind: str


TEAMS = (
    TeamSpec(DESK, "服务台 Service Desk", TeamKind.FRONTLINE),
    TeamSpec(FIELD, "现场服务 Field Service", TeamKind.FIELD),
    TeamSpec(TECH, "技术支持 Technical Support", TeamKind.BACK_OFFICE),
    TeamSpec(PARTS, "备件物流 Spare-Parts Logistics", TeamKind.BACK_OFFICE),
)


@dataclass(frozen=True)
class PersonSpec:
    username: str
    role: str
    display_name: str
    team: str = ""
    leads: bool = False
    english: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@huarui.example"


STAFF = (
    PersonSpec("manager", Role.SERVICE_MANAGER, "张伟 Zhang Wei"),
    PersonSpec("admin", Role.ADMIN, "系统管理员 System Admin"),
    PersonSpec("inspector", Role.QA_INSPECTOR, "何丽 He Li"),
    PersonSpec("lead", Role.TEAM_LEAD, "林晓梅 Lin Xiaomei", DESK, leads=True),
    PersonSpec("agent", Role.AGENT, "王磊 Wang Lei", DESK),
    PersonSpec("agent2", Role.AGENT, "陈静 Chen Jing", DESK),
    PersonSpec("agent3", Role.AGENT, "Emily Zhou 周怡", DESK, english=True),
    PersonSpec("fieldlead", Role.TEAM_LEAD, "赵刚 Zhao Gang", FIELD, leads=True),
    PersonSpec("engineer", Role.AGENT, "刘洋 Liu Yang", FIELD),
    PersonSpec("engineer2", Role.AGENT, "孙浩 Sun Hao", FIELD),
    PersonSpec("engineer3", Role.AGENT, "Mark Evans", FIELD, english=True),
    PersonSpec("techlead", Role.TEAM_LEAD, "周敏 Zhou Min", TECH, leads=True),
    PersonSpec("tech", Role.AGENT, "黄志强 Huang Zhiqiang", TECH),
    PersonSpec("partslead", Role.TEAM_LEAD, "吴婷 Wu Ting", PARTS, leads=True),
    PersonSpec("parts", Role.AGENT, "郑凯 Zheng Kai", PARTS),
)

# The logins `pledge demo` prints, with what to try as each.
DEMO_LOGINS: tuple[tuple[str, Promise], ...] = (
    ("manager", _("every team's tickets: the all-open view, reassign, reprioritise")),
    ("lead", _("the service desk queue: assign new tickets to the team")),
    ("agent", _("reply, add internal notes, move tickets through the workflow")),
    ("engineer", _("field visits and on-site repairs assigned to you")),
    ("inspector", _("read every ticket and its history (QA, read-only)")),
    ("admin", _("/admin/: users, teams, organisations, contracts, assets")),
    ("customer", _("the portal: submit a fault on a machine, follow its status")),
    ("customer2", _("another company's portal: none of the first one's tickets")),
)


# --- Customers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactSpec:
    name: str
    job_title: str
    email: str
    phone: str
    username: str = ""


@dataclass(frozen=True)
class OrgSpec:
    name: str
    tier: str
    industry: str
    region: str
    english: bool
    sites: tuple[str, ...]
    equipment: tuple[str, ...]
    contacts: tuple[ContactSpec, ...]
    contract: bool = True


ORGANISATIONS = (
    OrgSpec(
        "苏州恒通汽车零部件有限公司",
        Tier.GOLD,
        Industry.AUTOMOTIVE,
        "江苏 苏州",
        False,
        ("苏州工业园区 星龙街 1 号厂房", "苏州工业园区 星龙街 2 号厂房"),
        ("VMC850", "VMC850", "VMC850", "HMC630", "TC400"),
        (
            ContactSpec("李娜", "设备部经理", "lina@hengtong-auto.example", "0512-6258 3301", "customer"),
            ContactSpec("王建国", "维修主管", "wangjg@hengtong-auto.example", "138 1356 2207"),
        ),
    ),
    OrgSpec(
        "Shenzhen Brightwave Electronics Co., Ltd.",
        Tier.PLATINUM,
        Industry.ELECTRONICS,
        "Guangdong, Shenzhen",
        True,
        ("Building B, Guangming Science Park", "Building C, Guangming Science Park"),
        ("LC3015", "LC3015", "IM280", "IM280", "AC37", "VMC850"),
        (
            ContactSpec(
                "David Chen",
                "Facilities Manager",
                "david.chen@brightwave.example",
                "0755-2661 8820",
                "customer2",
            ),
            ContactSpec("Grace Wu", "Production Engineer", "grace.wu@brightwave.example", "139 2874 5561"),
        ),
    ),
    OrgSpec(
        "宁波东海模具制造有限公司",
        Tier.SILVER,
        Industry.MANUFACTURING,
        "浙江 宁波",
        False,
        ("宁波北仑 模具车间",),
        ("VMC850", "VMC850", "VMC1160", "TC400"),
        (ContactSpec("陈海波", "厂长", "chenhb@donghai-mould.example", "0574-8678 1123"),),
    ),
    OrgSpec(
        "Tianjin Bohai Petrochemical Equipment Co.",
        Tier.GOLD,
        Industry.CHEMICALS,
        "Tianjin",
        True,
        ("Binhai New Area, Fabrication Hall 1",),
        ("LC6020", "PB160", "AC75", "HMC630"),
        (
            ContactSpec("Michael Zhang", "Plant Engineer", "m.zhang@bohai-pce.example", "022-6530 7781"),
            ContactSpec("Lucy Liu", "Procurement", "lucy.liu@bohai-pce.example", "022-6530 7702"),
        ),
    ),
    OrgSpec(
        "重庆长江重工机械有限公司",
        Tier.STANDARD,
        Industry.MANUFACTURING,
        "重庆",
        False,
        ("重庆两江新区 重装车间",),
        ("HMC630", "HMC630", "TC400", "AC75"),
        (ContactSpec("刘志勇", "设备科长", "liuzy@cjhi.example", "023-6717 2290"),),
    ),
    OrgSpec(
        "Qingdao Haiyun Food Machinery Co.",
        Tier.SILVER,
        Industry.FOOD,
        "Shandong, Qingdao",
        True,
        ("Huangdao Plant 3",),
        ("LC3015", "PB160", "AC37"),
        (ContactSpec("Kevin Sun", "Maintenance Lead", "kevin.sun@haiyun-fm.example", "0532-8698 4410"),),
    ),
    OrgSpec(
        "成都天府医药科技有限公司",
        Tier.GOLD,
        Industry.PHARMA,
        "四川 成都",
        False,
        ("成都高新区 包装车间", "成都高新区 动力站"),
        ("IM280", "IM280", "AC37", "AC37"),
        (
            ContactSpec("杨帆", "工程部主管", "yangfan@tianfu-pharma.example", "028-8517 6623"),
            ContactSpec("何静", "EHS 专员", "hejing@tianfu-pharma.example", "180 8122 4576"),
        ),
    ),
    OrgSpec(
        "Wuxi Lakeside Precision Parts Co.",
        Tier.STANDARD,
        Industry.AUTOMOTIVE,
        "Jiangsu, Wuxi",
        True,
        ("Xinwu District, Workshop 5",),
        ("TC400", "TC400", "VMC850", "VMC850"),
        (ContactSpec("Tom Xu", "Production Manager", "tom.xu@lakeside-pp.example", "0510-8522 9031"),),
    ),
    OrgSpec(
        "广州珠江包装材料有限公司",
        Tier.STANDARD,
        Industry.MANUFACTURING,
        "广东 广州",
        False,
        ("广州黄埔 吹塑车间",),
        ("IM450", "IM450", "AC75"),
        (ContactSpec("黄伟", "设备主管", "huangwei@zj-pack.example", "020-8220 1548"),),
    ),
    OrgSpec(
        "Hefei Newpower Battery Systems Ltd.",
        Tier.PLATINUM,
        Industry.ENERGY,
        "Anhui, Hefei",
        True,
        ("Module Line 2", "Pack Plant"),
        ("LC3015", "LC3015", "LC6020", "AC75", "AC75", "VMC850"),
        (
            ContactSpec("Sarah Lin", "Equipment Director", "sarah.lin@newpower.example", "0551-6366 0917"),
            ContactSpec("Jason Ma", "Maintenance Supervisor", "jason.ma@newpower.example", "186 5517 3302"),
        ),
    ),
    OrgSpec(
        "西安秦川航空部件有限公司",
        Tier.GOLD,
        Industry.MANUFACTURING,
        "陕西 西安",
        False,
        ("西安阎良 精密加工中心",),
        ("HMC630", "HMC630", "VMC1160", "VMC1160", "TC400"),
        (
            ContactSpec("赵磊", "设备工艺部部长", "zhaolei@qinchuan-aero.example", "029-8623 5570"),
            ContactSpec("孙倩", "计量工程师", "sunqian@qinchuan-aero.example", "133 7912 0846"),
        ),
    ),
    OrgSpec(
        "Dongguan Pearl Plastics Co., Ltd.",
        Tier.SILVER,
        Industry.ELECTRONICS,
        "Guangdong, Dongguan",
        True,
        ("Chang'an Town, Moulding Hall",),
        ("IM280", "IM280", "IM280", "IM450", "AC37"),
        (ContactSpec("Peter Ho", "Plant Manager", "peter.ho@pearl-plastics.example", "0769-8532 6618"),),
    ),
    OrgSpec(
        "武汉光谷激光应用有限公司",
        Tier.SILVER,
        Industry.ELECTRONICS,
        "湖北 武汉",
        False,
        ("武汉东湖高新区 钣金车间",),
        ("LC3015", "LC3015", "PB160"),
        (ContactSpec("周杰", "生产经理", "zhoujie@ov-laser.example", "027-8778 3306"),),
    ),
    OrgSpec(
        "Shanghai Orient Logistics Automation Co.",
        Tier.STANDARD,
        Industry.LOGISTICS,
        "Shanghai",
        True,
        ("Jiading Assembly Hall",),
        ("LC3015", "PB160", "AC37"),
        (ContactSpec("Linda Wang", "Operations Manager", "linda.wang@orient-la.example", "021-5995 2284"),),
        contract=False,
    ),
    OrgSpec(
        "沈阳北方机床配套有限公司",
        Tier.STANDARD,
        Industry.MANUFACTURING,
        "辽宁 沈阳",
        False,
        ("沈阳铁西区 机加车间",),
        ("TC400", "TC400", "VMC850"),
        (ContactSpec("马强", "车间主任", "maqiang@beifang-mt.example", "024-2581 4467"),),
    ),
    OrgSpec(
        "Changzhou Greenfield Solar Components Co.",
        Tier.SILVER,
        Industry.ENERGY,
        "Jiangsu, Changzhou",
        True,
        ("Wujin Frame Workshop",),
        ("LC6020", "PB160", "AC75"),
        (
            ContactSpec(
                "Alan Zhou", "Facility Engineer", "alan.zhou@greenfield-solar.example", "0519-8639 1120"
            ),
        ),
    ),
    OrgSpec(
        "厦门鹭岛食品有限公司",
        Tier.STANDARD,
        Industry.FOOD,
        "福建 厦门",
        False,
        ("厦门海沧 灌装车间",),
        ("AC37", "AC37", "IM280"),
        (ContactSpec("林小红", "设备管理员", "linxh@ludao-food.example", "0592-6518 2039"),),
        contract=False,
    ),
    OrgSpec(
        "Zhengzhou Central Plains Chemical Works",
        Tier.STANDARD,
        Industry.CHEMICALS,
        "Henan, Zhengzhou",
        True,
        ("Utility Building",),
        ("AC75", "AC75", "AC37"),
        (ContactSpec("Frank Guo", "Utilities Supervisor", "frank.guo@cpcw.example", "0371-6755 8804"),),
        contract=False,
    ),
    OrgSpec(
        "长沙湘江工程机械有限公司",
        Tier.GOLD,
        Industry.MANUFACTURING,
        "湖南 长沙",
        False,
        ("长沙经开区 结构件车间", "长沙经开区 加工车间"),
        ("LC6020", "LC6020", "PB160", "HMC630", "VMC1160"),
        (
            ContactSpec("彭涛", "设备部经理", "pengtao@xiangjiang-cm.example", "0731-8402 7715"),
            ContactSpec("邓丽", "采购专员", "dengli@xiangjiang-cm.example", "152 7310 6628"),
        ),
    ),
    OrgSpec(
        "Foshan Everbright Home Appliances Co.",
        Tier.SILVER,
        Industry.ELECTRONICS,
        "Guangdong, Foshan",
        True,
        ("Shunde Plant 1",),
        ("IM450", "IM450", "LC3015", "AC37"),
        (
            ContactSpec(
                "Vivian Liang", "Engineering Manager", "vivian.liang@everbright-ha.example", "0757-2283 6410"
            ),
        ),
    ),
)

CONTRACT_COVERAGE: dict[str, ZhEn] = {
    Tier.PLATINUM: (
        "全包服务：7×24 小时热线，4 小时到场，备件、人工和差旅全部包含，每季度巡检。",
        "Full service: 24/7 hotline, on site within 4 hours, parts, labour and travel included, quarterly "
        "inspections.",
    ),
    Tier.GOLD: (
        "优先服务：工作日 8 小时到场，人工和差旅包含，备件八折，每半年巡检。",
        "Priority service: on site within 8 working hours, labour and travel included, 20 % off parts, "
        "twice-yearly inspections.",
    ),
    Tier.SILVER: (
        "标准维保：次工作日到场，人工包含，备件九折，年度保养一次。",
        "Standard maintenance: on site next working day, labour included, 10 % off parts, one annual "
        "service.",
    ),
    Tier.STANDARD: (
        "基础维保：故障维修和现场服务，人工按次结算，年度保养一次。",
        "Basic maintenance: fault repair and field visits, labour charged per visit, one annual service.",
    ),
}
# Standard contracts cover only these kinds of work; the others cover everything.
STANDARD_COVERED_KINDS = (Kind.FAULT, Kind.FIELD_VISIT)


# --- SLA policies -----------------------------------------------------------------------------------
#
# What the service desk promises, and when it escalates. The loader creates the policies through
# standards.services before any ticket, in this order (a contract's own policy is tried before the
# general ones, whatever its place). Targets are business minutes on the policy's calendar: cn-office
# has 8 working hours a day (09:00–12:00, 13:00–18:00, Mon–Fri, statutory holidays off), 24x7 has 24,
# night-shift 8 (22:00–06:00, Mon–Fri nights).
#
# The night-shift customer: Changzhou Greenfield cuts its solar frames at night on the off-peak power
# tariff (谷电), so a breakdown there costs production only between 22:00 and 06:00. Its contract
# therefore has its own policy on the night-shift calendar: the clocks count the customer's production
# hours, the night hotline answers within 30 minutes of them, and a repair done during the day costs
# no production time at all. P1 faults are not in it — they fall through to the P1 24×7 policy, like
# everybody's (a contract's policy wins only where its conditions hold).
#
# The full-service contract is Hefei Newpower's (platinum, the most equipment and the most tickets):
# its P1 and P2 faults run on a tighter 24×7 policy than the general P1 one, and the desk handles them
# around the clock (the stories treat them as urgent).
#
# Pause statuses: by default the clocks stand still while the ticket waits on the customer or on parts.
# On the 24×7 policies a part on its way does not stop the clock — a line that is down is still down —
# so they pause only while waiting on the customer.

FULL_SERVICE_CUSTOMER = "Hefei Newpower Battery Systems Ltd."
NIGHT_SHIFT_CUSTOMER = "Changzhou Greenfield Solar Components Co."
# The team the P1 policy hands a ticket to at 150 % of its resolution target.
ESCALATION_TEAM = TECH
HOUR = 60
WORKING_DAY = 8 * HOUR  # on cn-office and night-shift
ASSIGNEE, TEAM_LEAD, SERVICE_MANAGERS = "assignee", "team_lead", "service_managers"
WAITING_CUSTOMER_ONLY = ("waiting_customer",)


@dataclass(frozen=True)
class LevelSpec:
    target: str  # first_response, next_response, resolution, on_site
    percent: int
    notify: tuple[str, ...] = ()
    raise_priority: bool = False
    reassign_team: str = ""  # a team key (TEAMS)


@dataclass(frozen=True)
class PolicySpec:
    name: str
    description: str
    calendar: str  # a built-in calendar's code
    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None
    on_site: int | None = None
    contract_of: str = ""  # the organisation whose contract owns the policy
    kinds: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    pause_statuses: tuple[str, ...] | None = None  # None: waiting on customer and on parts
    levels: tuple[LevelSpec, ...] = ()


SLA_POLICIES = (
    PolicySpec(
        "合肥新能 全包合同 P1/P2 故障 · 7×24 / Newpower full-service contract: P1/P2 faults 24×7",
        "全包服务合同：P1、P2 故障都全天候计时，15 分钟响应，8 小时修复，备件在途也照常计时。"
        " / The full-service contract: P1 and P2 faults alike are timed around the clock, answered "
        "within 15 minutes and fixed within 8 hours; the clock keeps running while a part is on its way.",
        "24x7",
        first_response=15,
        next_response=30,
        resolution=8 * HOUR,
        contract_of=FULL_SERVICE_CUSTOMER,
        kinds=(Kind.FAULT,),
        priorities=(Priority.P1, Priority.P2),
        pause_statuses=WAITING_CUSTOMER_ONLY,
        levels=(
            LevelSpec("first_response", 100, (TEAM_LEAD,)),
            LevelSpec("resolution", 100, (TEAM_LEAD, SERVICE_MANAGERS)),
        ),
    ),
    PolicySpec(
        "常州绿野 谷电夜班生产 · 夜班日历 / Greenfield night production · night-shift calendar",
        "客户利用谷电夜间生产（22:00–06:00），时钟只在其生产时间内计时：生产时间 30 分钟内响应，两个夜班内"
        "到场，五个夜班内修复。P1 故障仍按 P1 7×24 政策。"
        " / The customer produces at night on the off-peak tariff (22:00–06:00), so the clocks count only "
        "its production hours: answered within 30 of them, on site within two night shifts, fixed within "
        "five. P1 faults still follow the P1 24×7 policy.",
        "night-shift",
        first_response=30,
        next_response=HOUR,
        resolution=5 * WORKING_DAY,
        on_site=2 * WORKING_DAY,
        contract_of=NIGHT_SHIFT_CUSTOMER,
        kinds=(Kind.FAULT, Kind.FIELD_VISIT),
        priorities=(Priority.P2, Priority.P3, Priority.P4),
        levels=(LevelSpec("resolution", 100, (TEAM_LEAD,)),),
    ),
    PolicySpec(
        "P1 故障 · 7×24 / P1 faults 24×7",
        "设备停机的 P1 故障全天候计时：30 分钟响应，8 小时修复；等备件不停表（停线就是停线）。"
        " / Machine-down P1 faults, timed around the clock: answered within 30 minutes, fixed within "
        "8 hours; waiting on parts does not stop the clock (a down line is still down).",
        "24x7",
        first_response=30,
        next_response=HOUR,
        resolution=8 * HOUR,
        # The promise as the contracts word it. Pledge times on-site arrival only on field visits, so
        # on this faults-only policy it starts no clock: the engineer's visit shows in the resolution.
        on_site=4 * HOUR,
        kinds=(Kind.FAULT,),
        priorities=(Priority.P1,),
        pause_statuses=WAITING_CUSTOMER_ONLY,
        levels=(
            LevelSpec("first_response", 100, (TEAM_LEAD,)),
            LevelSpec("resolution", 75, (ASSIGNEE,)),
            LevelSpec("resolution", 100, (TEAM_LEAD,)),
            LevelSpec("resolution", 150, (SERVICE_MANAGERS,), reassign_team=ESCALATION_TEAM),
        ),
    ),
    # P2 faults have their own policy, tighter than the general one and without its priority raise: a
    # P2 fault raised to P1 would move to the 24×7 policy, long past its target, and be handed over at
    # once. The service managers hear of it instead.
    PolicySpec(
        "P2 故障 · 工作日 / P2 faults · office hours",
        "影响生产的 P2 故障：1 个工作小时内响应，3 个工作日内修复；超时通知组长和服务经理。"
        " / P2 faults that hamper production: answered within a working hour, fixed within 3 working "
        "days; when late, the team lead and the service managers are told.",
        "cn-office",
        first_response=HOUR,
        next_response=2 * HOUR,
        resolution=3 * WORKING_DAY,
        kinds=(Kind.FAULT,),
        priorities=(Priority.P2,),
        levels=(LevelSpec("resolution", 100, (TEAM_LEAD, SERVICE_MANAGERS)),),
    ),
    PolicySpec(
        "投诉 · 工作日 / Complaints · office hours",
        "客户投诉：1 个工作小时内响应，2 个工作日内处理完毕；超时报服务经理并上调优先级。"
        " / Complaints: answered within a working hour, settled within 2 working days; when late, the "
        "service managers hear of it and the priority goes up.",
        "cn-office",
        first_response=HOUR,
        next_response=4 * HOUR,
        resolution=2 * WORKING_DAY,
        kinds=(Kind.COMPLAINT,),
        levels=(
            LevelSpec("first_response", 100, (SERVICE_MANAGERS,)),
            LevelSpec("resolution", 100, (SERVICE_MANAGERS,), raise_priority=True),
        ),
    ),
    PolicySpec(
        "现场服务 · 工作日 / Field visits · office hours",
        "计划上门：1 个工作日内确认，2 个工作日内到场，5 个工作日内完成。"
        " / Planned visits: confirmed within a working day, on site within 2 working days, done within "
        "5 working days.",
        "cn-office",
        first_response=WORKING_DAY,
        resolution=5 * WORKING_DAY,
        on_site=2 * WORKING_DAY,
        kinds=(Kind.FIELD_VISIT,),
        levels=(LevelSpec("on_site", 100, (ASSIGNEE, TEAM_LEAD)),),
    ),
    PolicySpec(
        "通用 · 工作日 / General · office hours",
        "其余工单：2 个工作小时内响应，客户追问 4 个工作小时内回复，5 个工作日内解决。"
        " / Everything else: answered within 2 working hours, follow-ups within 4, resolved within 5 "
        "working days.",
        "cn-office",
        first_response=2 * HOUR,
        next_response=4 * HOUR,
        resolution=5 * WORKING_DAY,
        levels=(
            LevelSpec("resolution", 75, (ASSIGNEE,)),
            LevelSpec("resolution", 100, (TEAM_LEAD,), raise_priority=True),
        ),
    ),
)


# --- The service catalogue and its SOPs -------------------------------------------------------------
#
# Six services, each with a standard operating procedure: the steps in order, who owns each (the desk,
# the field engineer, or a back-office team that the ticket is handed to), the time standard of each
# step in business minutes on the ticket's SLA calendar, the quality checkpoints and the milestones the
# customer sees. The loader creates them through standards.services before any ticket, approved by the
# service manager to take effect at the start of the history; the fault-repair SOP has a second version
# that took effect two months ago (FAULT_REPAIR_V2_DAYS_AGO), so older and newer tickets follow different
# versions. The `text`, `answers` and `failing` fields say what the demo's people answer (they are not
# part of the SOP): photo and file checkpoints are optional and the demo attaches no files.

FIELD_CATEGORY, REMOTE_CATEGORY, ADVISORY_CATEGORY, COMPLAINT_CATEGORY = (
    ServiceCategory.FIELD,
    ServiceCategory.REMOTE,
    ServiceCategory.ADVISORY,
    ServiceCategory.COMPLAINT,
)
FRONTLINE, FIELD_OWNER, BACK_OFFICE = StepOwner.FRONTLINE, StepOwner.FIELD, StepOwner.BACK_OFFICE
YES_NO, NUMBER, TEXT, FILE, PHOTO = (
    CheckpointKind.YES_NO,
    CheckpointKind.NUMBER,
    CheckpointKind.TEXT,
    CheckpointKind.FILE,
    CheckpointKind.PHOTO,
)


@dataclass(frozen=True)
class CheckpointSpec:
    key: str
    label: str
    kind: str
    mandatory: bool = True
    critical: bool = False
    min_value: float | None = None
    max_value: float | None = None
    unit: str = ""
    # What the demo's people answer. Text: `text` with the story's {subject}, {diagnosis}, {resolution},
    # {model} … filled in. Numbers: drawn from `answers` with `decimals`; a first answer that fails is
    # drawn from `failing` and put right later. Yes/no: yes, unless the story says otherwise.
    text: ZhEn = ("", "")
    answers: tuple[float, float] = (0.0, 0.0)
    failing: tuple[float, float] = (0.0, 0.0)
    decimals: int = 0


@dataclass(frozen=True)
class StepSpec:
    key: str
    name: str
    owner: str
    minutes: int  # the time standard, in business minutes
    team: str = ""  # a back-office step's team (a TEAMS key): the ticket is handed to it
    parallel_group: str = ""
    milestone: str = ""  # the milestone's name the customer sees; empty: not a milestone
    guidance: str = ""  # Markdown
    checkpoints: tuple[CheckpointSpec, ...] = ()


@dataclass(frozen=True)
class SopVersionSpec:
    reason: str
    steps: tuple[StepSpec, ...]
    # The version takes effect this many days before now; None: at the start of the history.
    effective_days_ago: int | None = None


@dataclass(frozen=True)
class SopSpec:
    code: str
    name: str
    description: str
    versions: tuple[SopVersionSpec, ...]


@dataclass(frozen=True)
class ServiceTypeSpec:
    code: str
    name: str
    description: str
    category: str
    default_kind: str
    default_priority: str
    skills: tuple[str, ...]
    sop: str  # the SOP's code
    calendar: str = "cn-office"
    first_response: int | None = None
    resolution: int | None = None
    on_site: int | None = None
    customer_selectable: bool = True


# Checkpoints more than one SOP asks.
CUSTOMER_SATISFACTION = CheckpointSpec(
    "satisfaction",
    "客户满意度（1–5 分） / Customer satisfaction (1–5)",
    NUMBER,
    mandatory=False,
    min_value=1,
    max_value=5,
    unit="分 / pts",
    answers=(4, 5),
)
DATE_AGREED = CheckpointSpec("date-agreed", "日期已与客户确认 / Date agreed with the customer", YES_NO)

# --- 故障维修 Fault repair: the desk troubleshoots remotely, spare-parts logistics checks and ships the
# parts while the engineer books the visit, then arrival, repair with a test run, and acceptance.

FAULT_REPAIR_V2_DAYS_AGO = 60
_TRIAGE = StepSpec(
    "triage",
    "受理与远程排查 / Triage and remote checks",
    FRONTLINE,
    8 * HOUR,
    milestone="已诊断，正在安排上门 / Diagnosed, visit being arranged",
    guidance=(
        "- 先查设备档案和近 90 天的维修记录，确认保修和合同状态。\n"
        "- 请客户发报警画面照片和报警履历，记录报警代码。\n"
        "- 按知识库清单远程排查；排查不能解决的，转现场服务组。\n\n"
        "- Check the machine record and the last 90 days of repairs; confirm warranty and contract.\n"
        "- Ask for a photo of the alarm screen and the alarm history; record the alarm code.\n"
        "- Work through the knowledge-base checklist remotely; what it does not fix goes to field service."
    ),
    checkpoints=(
        CheckpointSpec(
            "symptom", "故障现象与报警代码 / Symptom and alarm code", TEXT, text=("{subject}", "{subject}")
        ),
        CheckpointSpec(
            "remote-checks", "已按知识库清单远程排查 / Knowledge-base checks done remotely", YES_NO
        ),
        CheckpointSpec(
            "downtime",
            "受理时已停机时长 / Downtime when reported",
            NUMBER,
            mandatory=False,
            unit="h",
            answers=(0.5, 16),
            decimals=1,
        ),
    ),
)
_PARTS = StepSpec(
    "parts",
    "备件确认与发运 / Parts check and dispatch",
    BACK_OFFICE,
    2 * WORKING_DAY,
    team=PARTS,
    parallel_group="prepare",
    guidance=(
        "**运营级协议：2 个工作日内发出。**\n\n"
        "- 按设备序列号核对备件版本和库存；无需备件的，当天确认并交回。\n"
        "- 中心库缺货时当天申请区域库调拨，并在工单里写明预计到货日期。\n"
        "- 停线（P1）工单用当日专送。\n\n"
        "**OLA: shipped within 2 working days.**\n\n"
        "- Match the part revision to the serial number and check stock; when no part is needed, say so "
        "the same day and hand the ticket back.\n"
        "- If the central warehouse is out of stock, request a regional transfer the same day and note the "
        "expected delivery on the ticket.\n"
        "- Line-down (P1) jobs go by same-day courier."
    ),
    checkpoints=(
        CheckpointSpec(
            "stock-checked",
            "已按序列号核对备件型号与库存 / Part revision and stock checked against the serial number",
            YES_NO,
        ),
        CheckpointSpec(
            "part-list",
            "备件清单与发运信息 / Parts list and shipping details",
            TEXT,
            mandatory=False,
            text=(
                "已核对：本次维修无需备件，工程师随车携带常用件。",
                "Checked: no spare part needed; the engineer carries the usual consumables.",
            ),
        ),
        CheckpointSpec("dispatch-note", "发货单 / Dispatch note", FILE, mandatory=False),
    ),
)
_SCHEDULE = StepSpec(
    "schedule",
    "预约上门 / Book the visit",
    FIELD_OWNER,
    WORKING_DAY,
    parallel_group="prepare",
    milestone="已预约上门 / Visit booked",
    guidance=(
        "- 与客户确认上门日期、停机时间和配合的操作人员。\n"
        "- 需要备件的，上门日期安排在预计到货之后。\n\n"
        "- Agree the visit date, the downtime and an operator with the customer.\n"
        "- When a part is on its way, book the visit after its expected delivery."
    ),
    checkpoints=(
        DATE_AGREED,
        CheckpointSpec(
            "downtime-arranged",
            "客户已安排停机和配合的操作人员 / Customer arranged the downtime and an operator",
            YES_NO,
        ),
    ),
)
_ARRIVAL_GUIDANCE = (
    "- 按预约时间到场，接受客户的现场安全交底。\n"
    "- 作业前与设备操作人员确认停机挂牌。\n\n"
    "- Arrive at the booked time and take the customer's site safety briefing.\n"
    "- Confirm the machine is stopped and tagged with its operator before any work."
)
_LOTO_GUIDANCE = (
    "\n\n**上锁挂牌（LOTO）**：切断主电源和气源、液压源，上锁挂牌，释放残余能量并验电，确认无电后才能作业。\n\n"
    "**Lockout-tagout**: isolate the main power, air and hydraulics, lock and tag them, release stored "
    "energy and verify zero energy before any work."
)
_SAFETY_BRIEFING = CheckpointSpec(
    "induction", "已接受客户现场安全交底 / Customer's site safety briefing received", YES_NO
)
_LOTO = CheckpointSpec(
    "loto",
    "已执行上锁挂牌（LOTO）并验证无电 / Lockout-tagout applied and zero energy verified",
    YES_NO,
    critical=True,
)
_ARRIVAL = StepSpec(
    "on-site",
    "到场与安全确认 / Arrival and safety check",
    FIELD_OWNER,
    3 * WORKING_DAY,
    guidance=_ARRIVAL_GUIDANCE,
    checkpoints=(_SAFETY_BRIEFING,),
)
_REPAIR = StepSpec(
    "repair",
    "维修与试运行 / Repair and test run",
    FIELD_OWNER,
    WORKING_DAY,
    guidance=(
        "- 记录故障原因、维修内容和更换的备件（含旧件去向）。\n"
        "- 修复后按工况连续试运行至少 30 分钟；试运行中再次报警的，重新处理后重新填写。\n"
        "- 拍下修复部位的照片。\n\n"
        "- Record the root cause, the work done and the parts replaced (and where the old parts went).\n"
        "- Run the machine under load for at least 30 minutes after the repair; if the alarm comes back, "
        "fix it and answer again.\n"
        "- Take a photo of the repaired part."
    ),
    checkpoints=(
        CheckpointSpec("root-cause", "故障原因 / Root cause", TEXT, text=("{diagnosis}", "{diagnosis}")),
        CheckpointSpec(
            "work-done",
            "维修内容与更换的备件 / Work done and parts replaced",
            TEXT,
            text=("{resolution}", "{resolution}"),
        ),
        CheckpointSpec(
            "test-run",
            "修复后连续试运行时间 / Continuous test run after the repair",
            NUMBER,
            critical=True,
            min_value=30,
            unit="min",
            answers=(30, 240),
            failing=(8, 25),
        ),
        CheckpointSpec("photo-after", "修复部位照片 / Photo of the repaired part", PHOTO, mandatory=False),
    ),
)
_ACCEPTANCE = StepSpec(
    "acceptance",
    "客户验收 / Customer acceptance",
    FIELD_OWNER,
    2 * HOUR,
    milestone="维修完成 / Repair completed",
    guidance=(
        "- 与客户一起确认设备恢复正常，请客户在服务报告上签字。\n\n"
        "- Confirm with the customer that the machine is back to normal and have the service report signed."
    ),
    checkpoints=(
        CheckpointSpec(
            "customer-ok",
            "客户确认设备恢复正常 / Customer confirms the machine is back to normal",
            YES_NO,
            critical=True,
        ),
        CUSTOMER_SATISFACTION,
        CheckpointSpec(
            "service-report",
            "客户签字的服务报告 / Service report signed by the customer",
            FILE,
            mandatory=False,
        ),
    ),
)
FAULT_REPAIR = SopSpec(
    "fault-repair",
    "故障维修 / Fault repair",
    "现场故障维修的标准流程：一线受理与远程排查，备件确认与预约上门同时进行，到场安全确认，维修与试运行，客户验收。"
    " / The standard process for an on-site fault repair: frontline triage and remote troubleshooting, the "
    "parts check and the visit booking side by side, safety on arrival, repair with a test run, customer "
    "acceptance.",
    (
        SopVersionSpec(
            "首版：按 2025 版服务手册整理。 / First version, from the 2025 service handbook.",
            (_TRIAGE, _PARTS, _SCHEDULE, _ARRIVAL, _REPAIR, _ACCEPTANCE),
        ),
        SopVersionSpec(
            "一起现场险肇事件复盘后，到场安全确认新增关键检查点“上锁挂牌（LOTO）并验证无电”；远程排查改按知识库清单执行，"
            "时间标准由 8 个工作小时缩短为 6 个。"
            " / After the review of a near miss on site, the arrival safety check gains a critical "
            "checkpoint: lockout-tagout applied and zero energy verified. Remote troubleshooting now follows "
            "the knowledge-base checklist, so its time standard drops from 8 working hours to 6.",
            (
                replace(_TRIAGE, minutes=6 * HOUR),
                _PARTS,
                _SCHEDULE,
                replace(
                    _ARRIVAL,
                    guidance=_ARRIVAL_GUIDANCE + _LOTO_GUIDANCE,
                    checkpoints=(_SAFETY_BRIEFING, _LOTO),
                ),
                _REPAIR,
                _ACCEPTANCE,
            ),
            effective_days_ago=FAULT_REPAIR_V2_DAYS_AGO,
        ),
    ),
)

# --- 远程支持 Remote support: the desk gathers the facts and runs the first-line checks, technical support
# analyses (a hand-off with a one-day OLA), the desk applies the fix and verifies it with the customer.

REMOTE_SUPPORT = SopSpec(
    "remote-support",
    "远程支持 / Remote support",
    "远程诊断与处理的标准流程：一线受理并排查，技术支持分析，一线远程处理，运行验证后由客户确认。"
    " / The standard process for remote diagnosis and repair: the frontline takes the request and runs the "
    "first checks, technical support analyses, the frontline applies the fix, and the customer confirms "
    "after a verification run.",
    (
        SopVersionSpec(
            "首版。 / First version.",
            (
                StepSpec(
                    "intake",
                    "受理与信息收集 / Intake and details",
                    FRONTLINE,
                    2 * HOUR,
                    milestone="已受理 / Request received",
                    guidance=(
                        "- 记录问题现象、报警代码、系统软件版本和最近的参数修改。\n"
                        "- 请客户拍报警画面。\n\n"
                        "- Record the symptom, the alarm code, the controller software version and any "
                        "recent parameter changes.\n"
                        "- Ask the customer for a photo of the alarm screen."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "symptom",
                            "问题描述与报警代码 / Problem and alarm code",
                            TEXT,
                            text=("{subject}", "{subject}"),
                        ),
                        CheckpointSpec(
                            "software-version",
                            "数控系统软件版本 / Controller software version",
                            TEXT,
                            mandatory=False,
                            text=("V3.2", "V3.2"),
                        ),
                        CheckpointSpec(
                            "alarm-photo", "报警画面照片 / Photo of the alarm screen", PHOTO, mandatory=False
                        ),
                    ),
                ),
                StepSpec(
                    "first-line",
                    "一线远程排查 / First-line remote checks",
                    FRONTLINE,
                    4 * HOUR,
                    guidance=(
                        "- 按知识库清单检查报警履历、参数和 I/O 状态。\n"
                        "- 解决不了的，备份参数和报警履历后转技术支持。\n\n"
                        "- Check the alarm history, parameters and I/O states against the knowledge base.\n"
                        "- What you cannot solve goes to technical support, with the parameter backup and "
                        "the alarm history."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "kb-checks", "已按知识库清单排查 / Knowledge-base checklist done", YES_NO
                        ),
                        CheckpointSpec(
                            "findings",
                            "排查记录 / Findings so far",
                            TEXT,
                            text=(
                                "已检查报警履历、参数和 I/O 状态，需技术支持进一步分析。",
                                "Alarm history, parameters and I/O checked; technical support needs to "
                                "analyse further.",
                            ),
                        ),
                    ),
                ),
                StepSpec(
                    "analysis",
                    "技术支持分析 / Technical support analysis",
                    BACK_OFFICE,
                    WORKING_DAY,
                    team=TECH,
                    milestone="诊断完成 / Diagnosis complete",
                    guidance=(
                        "**运营级协议：1 个工作日内给出结论。**\n\n"
                        "- 分析报警履历、参数备份和远程连接数据，给出原因和处理方案。\n"
                        "- 需要厂家实验室分析的，在工单里写明预计日期。\n\n"
                        "**OLA: a conclusion within 1 working day.**\n\n"
                        "- Analyse the alarm history, the parameter backup and the remote session data; "
                        "give the cause and the fix.\n"
                        "- If the manufacturer's lab must look at it, note the expected date on the ticket."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "root-cause",
                            "分析结论 / Conclusion of the analysis",
                            TEXT,
                            text=("{diagnosis}", "{diagnosis}"),
                        ),
                        CheckpointSpec(
                            "archived",
                            "报警履历与参数备份已存档 / Alarm history and parameter backup archived",
                            YES_NO,
                        ),
                        CheckpointSpec(
                            "analysis-report", "分析报告 / Analysis report", FILE, mandatory=False
                        ),
                    ),
                ),
                StepSpec(
                    "remote-fix",
                    "远程处理 / Remote fix",
                    FRONTLINE,
                    WORKING_DAY,
                    guidance=(
                        "- 修改任何参数或程序之前先备份。\n"
                        "- 远程操作前征得客户同意，并确认现场有人看护设备。\n\n"
                        "- Back up before changing any parameter or program.\n"
                        "- Get the customer's consent before a remote session and make sure someone is "
                        "watching the machine."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "backup-before",
                            "修改前已备份参数和程序 / Parameters and programs backed up before any change",
                            YES_NO,
                            critical=True,
                        ),
                        CheckpointSpec(
                            "action",
                            "处理措施 / Action taken",
                            TEXT,
                            text=("{resolution}", "{resolution}"),
                        ),
                    ),
                ),
                StepSpec(
                    "verify",
                    "运行验证与客户确认 / Verification with the customer",
                    FRONTLINE,
                    WORKING_DAY,
                    milestone="问题已解决 / Problem solved",
                    guidance=(
                        "- 请客户按正常工况运行至少 2 小时，再确认问题已解决。\n\n"
                        "- Have the customer run the machine normally for at least 2 hours before "
                        "confirming."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "run-hours",
                            "处理后无故障运行时间 / Trouble-free running after the fix",
                            NUMBER,
                            critical=True,
                            min_value=2,
                            unit="h",
                            answers=(2, 8),
                            failing=(0.3, 1.5),
                            decimals=1,
                        ),
                        CheckpointSpec(
                            "customer-ok",
                            "客户确认问题已解决 / Customer confirms the problem is solved",
                            YES_NO,
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# --- 安装调试 Installation and commissioning: site readiness, tools and booking side by side, placement
# and levelling, power-up and accuracy check, training and acceptance.

INSTALLATION = SopSpec(
    "installation",
    "安装调试 / Installation and commissioning",
    "新设备到货后的安装调试：确认现场条件，准备工具并预约，就位调平，通电调试和精度检验，培训操作人员并验收。"
    " / Installing and commissioning a new machine: check the site, prepare the tools and book the date, "
    "place and level the machine, power it up and check its accuracy, train the operators and get the "
    "acceptance signed.",
    (
        SopVersionSpec(
            "首版。 / First version.",
            (
                StepSpec(
                    "site-check",
                    "现场条件确认 / Site readiness check",
                    FRONTLINE,
                    WORKING_DAY,
                    guidance=(
                        "- 对照设备布置图确认地基、空间和吊装通道。\n"
                        "- 请客户测量进线电压；超出 380 V ±10 % 的，由客户先整改供电。\n\n"
                        "- Check the foundation, the space and the rigging path against the layout drawing.\n"
                        "- Have the customer measure the supply; outside 380 V ±10 % the customer fixes the "
                        "supply first."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "foundation",
                            "地基、空间与吊装通道符合布置图 / Foundation, space and rigging path match the "
                            "layout drawing",
                            YES_NO,
                            critical=True,
                        ),
                        CheckpointSpec(
                            "supply-voltage",
                            "进线电压（线电压） / Supply voltage (line to line)",
                            NUMBER,
                            critical=True,
                            min_value=342,
                            max_value=418,
                            unit="V",
                            answers=(372, 396),
                            failing=(326, 339),
                        ),
                        CheckpointSpec("site-photo", "现场照片 / Photo of the site", PHOTO, mandatory=False),
                    ),
                ),
                StepSpec(
                    "kit",
                    "工具与随机附件准备 / Tools and accessories",
                    FIELD_OWNER,
                    WORKING_DAY,
                    parallel_group="prepare",
                    guidance=(
                        "- 按装箱单清点随机附件；检查水平仪和检具的校准有效期。\n\n"
                        "- Count the accessories against the packing list; check the calibration dates of "
                        "the level and the gauges."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "packing-list",
                            "已按装箱单清点随机附件 / Accessories counted against the packing list",
                            YES_NO,
                        ),
                        CheckpointSpec(
                            "instruments",
                            "水平仪与检具在校准有效期内 / Level and gauges within their calibration",
                            YES_NO,
                            critical=True,
                        ),
                    ),
                ),
                StepSpec(
                    "appointment",
                    "预约安装 / Book the installation",
                    FRONTLINE,
                    WORKING_DAY,
                    parallel_group="prepare",
                    milestone="已预约安装 / Installation booked",
                    checkpoints=(
                        DATE_AGREED,
                        CheckpointSpec(
                            "rigging",
                            "客户已安排吊车和叉车 / Customer arranged the crane and the forklift",
                            YES_NO,
                        ),
                    ),
                ),
                StepSpec(
                    "install",
                    "就位调平 / Placing and levelling",
                    FIELD_OWNER,
                    3 * WORKING_DAY,
                    guidance=(
                        "- 水平度不超过 0.02 mm/m；超差的重新调整垫铁后再测。\n"
                        "- 地脚螺栓按说明书力矩紧固。\n\n"
                        "- Levelness within 0.02 mm/m; if it is out, re-shim and measure again.\n"
                        "- Torque the anchor bolts as the manual says."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "level",
                            "水平度 / Levelness",
                            NUMBER,
                            critical=True,
                            max_value=0.02,
                            unit="mm/m",
                            answers=(0.006, 0.018),
                            failing=(0.024, 0.04),
                            decimals=3,
                        ),
                        CheckpointSpec("anchors", "地脚螺栓已按力矩紧固 / Anchor bolts torqued", YES_NO),
                    ),
                ),
                StepSpec(
                    "commission",
                    "通电调试与精度检验 / Commissioning",
                    FIELD_OWNER,
                    WORKING_DAY,
                    guidance=(
                        "- 通电前检查相序和接地；调试后备份全部参数。\n"
                        "- 按验收标准加工试切件并检验。\n\n"
                        "- Check the phase sequence and earthing before power-up; back up every parameter "
                        "after commissioning.\n"
                        "- Cut the acceptance test piece and measure it."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "test-piece",
                            "试切件检验合格 / Test piece within tolerance",
                            YES_NO,
                            critical=True,
                        ),
                        CheckpointSpec(
                            "accuracy-report", "精度检验报告 / Accuracy report", FILE, mandatory=False
                        ),
                        CheckpointSpec(
                            "notes",
                            "调试记录 / Commissioning notes",
                            TEXT,
                            mandatory=False,
                            text=(
                                "相序、接地检查正常，参数已备份，试切件尺寸合格。",
                                "Phase sequence and earthing fine, parameters backed up, test piece in "
                                "tolerance.",
                            ),
                        ),
                    ),
                ),
                StepSpec(
                    "handover",
                    "操作培训与验收 / Operator training and acceptance",
                    FIELD_OWNER,
                    WORKING_DAY,
                    milestone="验收完成 / Installation accepted",
                    checkpoints=(
                        CheckpointSpec(
                            "trained",
                            "已培训的操作人员 / Operators trained",
                            NUMBER,
                            min_value=1,
                            unit="人 / people",
                            answers=(2, 6),
                        ),
                        CheckpointSpec(
                            "accepted",
                            "客户已签署验收单 / Acceptance form signed",
                            YES_NO,
                            critical=True,
                        ),
                        CheckpointSpec(
                            "acceptance-form", "验收单扫描件 / Scanned acceptance form", FILE, mandatory=False
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# --- 预防性维护 Preventive maintenance: plan, kit, the visit with its safety and vibration checks, report.

PREVENTIVE_MAINTENANCE = SopSpec(
    "preventive-maintenance",
    "预防性维护 / Preventive maintenance",
    "按合同进行的定期保养和巡检：确认计划，准备保养包，现场保养（含安全回路和振动检测），出具保养报告。"
    " / Scheduled maintenance and inspections under contract: confirm the plan, prepare the kit, service "
    "the machine on site (safety circuits and vibration included) and report.",
    (
        SopVersionSpec(
            "首版。 / First version.",
            (
                StepSpec(
                    "plan",
                    "确认保养计划 / Confirm the maintenance plan",
                    FRONTLINE,
                    WORKING_DAY,
                    checkpoints=(
                        DATE_AGREED,
                        CheckpointSpec(
                            "running-hours",
                            "设备累计运行时间 / Machine running hours",
                            NUMBER,
                            mandatory=False,
                            unit="h",
                            answers=(1800, 16000),
                        ),
                    ),
                ),
                StepSpec(
                    "kit",
                    "准备保养包 / Prepare the maintenance kit",
                    FIELD_OWNER,
                    WORKING_DAY,
                    guidance=(
                        "- 按机型保养清单领取滤芯、油品和密封件。\n\n"
                        "- Draw the filters, oil and seals on the model's maintenance list."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "kit-complete",
                            "滤芯、油品和密封件齐全 / Filters, oil and seals complete",
                            YES_NO,
                        ),
                    ),
                ),
                StepSpec(
                    "service",
                    "现场保养 / On-site maintenance",
                    FIELD_OWNER,
                    5 * WORKING_DAY,
                    guidance=(
                        "- 按清单逐项保养并在点检表上签字。\n"
                        "- 测量主电机或主轴振动速度：超过 4.5 mm/s 的，查明原因（对中、紧固、轴承），\n"
                        "  处理后复测。\n"
                        "- 测试急停和安全门联锁。\n\n"
                        "- Work through the checklist item by item and sign it.\n"
                        "- Measure the vibration velocity of the main motor or spindle: above 4.5 mm/s, find "
                        "the cause (alignment, fastening, bearings), fix it and measure again.\n"
                        "- Test the emergency stops and the door interlocks."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "consumables",
                            "已按清单更换滤芯和油品 / Filters and oil replaced per the checklist",
                            YES_NO,
                        ),
                        CheckpointSpec(
                            "vibration",
                            "振动速度（主电机或主轴） / Vibration velocity (main motor or spindle)",
                            NUMBER,
                            critical=True,
                            max_value=4.5,
                            unit="mm/s",
                            answers=(0.6, 3.2),
                            failing=(4.8, 7.1),
                            decimals=1,
                        ),
                        CheckpointSpec(
                            "safety-circuits",
                            "急停与安全门联锁测试正常 / Emergency stops and door interlocks tested",
                            YES_NO,
                            critical=True,
                        ),
                        CheckpointSpec(
                            "checklist-photo", "点检表照片 / Photo of the checklist", PHOTO, mandatory=False
                        ),
                    ),
                ),
                StepSpec(
                    "report",
                    "保养报告与建议 / Report and recommendations",
                    FIELD_OWNER,
                    WORKING_DAY,
                    milestone="保养完成 / Maintenance done",
                    checkpoints=(
                        CheckpointSpec(
                            "findings",
                            "发现与建议 / Findings and recommendations",
                            TEXT,
                            text=("{resolution}", "{resolution}"),
                        ),
                        CheckpointSpec(
                            "next-service",
                            "建议下次保养时间 / Next service due",
                            TEXT,
                            mandatory=False,
                            text=("3 个月后", "In three months"),
                        ),
                        CheckpointSpec("report-file", "保养报告 / Maintenance report", FILE, mandatory=False),
                    ),
                ),
            ),
        ),
    ),
)

# --- 咨询 Consultation: log, look it up, answer, confirm.

CONSULTATION = SopSpec(
    "consultation",
    "咨询 / Consultation",
    "客户咨询（保修、合同、技术、交货期）的答复流程。 / Answering customers' questions (warranty, contracts, "
    "technical matters, lead times).",
    (
        SopVersionSpec(
            "首版。 / First version.",
            (
                StepSpec(
                    "log",
                    "受理登记 / Log the question",
                    FRONTLINE,
                    HOUR,
                    checkpoints=(
                        CheckpointSpec("topic", "咨询主题 / Topic", TEXT, text=("{subject}", "{subject}")),
                    ),
                ),
                StepSpec(
                    "research",
                    "查询档案与资料 / Check the records",
                    FRONTLINE,
                    4 * HOUR,
                    guidance=(
                        "- 以设备档案、合同和资料库为准，不凭记忆答复。\n\n"
                        "- Answer from the machine record, the contract and the document library, not "
                        "from memory."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "records-checked",
                            "已核对设备档案、合同和资料库 / Machine record, contract and library checked",
                            YES_NO,
                        ),
                        CheckpointSpec("reference", "参考资料 / Reference document", FILE, mandatory=False),
                    ),
                ),
                StepSpec(
                    "answer",
                    "答复客户 / Answer the customer",
                    FRONTLINE,
                    4 * HOUR,
                    milestone="已答复 / Answered",
                    checkpoints=(
                        CheckpointSpec(
                            "answer-summary",
                            "答复要点 / Summary of the answer",
                            TEXT,
                            text=("{resolution}", "{resolution}"),
                        ),
                    ),
                ),
                StepSpec(
                    "confirm",
                    "确认客户已清楚 / Confirm the answer is clear",
                    FRONTLINE,
                    WORKING_DAY,
                    checkpoints=(
                        CheckpointSpec(
                            "understood",
                            "客户确认答复清楚 / Customer confirms the answer is clear",
                            YES_NO,
                        ),
                        CUSTOMER_SATISFACTION,
                    ),
                ),
            ),
        ),
    ),
)

# --- 投诉处理 Complaint handling: apologise, investigate, remedy approved by the service manager, reply,
# quality review.

COMPLAINT_HANDLING = SopSpec(
    "complaint-handling",
    "投诉处理 / Complaint handling",
    "客户投诉的处理流程：当天致歉受理，调查核实，经服务经理批准的整改与补救，答复客户，纳入质量复盘。"
    " / Handling a complaint: apologise and log it the same day, investigate, a corrective action and "
    "remedy approved by the service manager, reply to the customer, and a quality review.",
    (
        SopVersionSpec(
            "首版。 / First version.",
            (
                StepSpec(
                    "acknowledge",
                    "致歉与受理 / Apologise and log",
                    FRONTLINE,
                    HOUR,
                    milestone="投诉已受理 / Complaint received",
                    guidance=(
                        "- 服务台主管 1 小时内致电客户致歉，说明处理时限。\n\n"
                        "- The desk lead calls the customer within the hour to apologise and say when "
                        "they will hear back."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "category",
                            "投诉内容 / What the complaint is about",
                            TEXT,
                            text=("{subject}", "{subject}"),
                        ),
                        CheckpointSpec(
                            "called-back",
                            "服务台主管已致电客户 / The desk lead has called the customer",
                            YES_NO,
                        ),
                    ),
                ),
                StepSpec(
                    "investigate",
                    "调查核实 / Investigate",
                    FRONTLINE,
                    2 * WORKING_DAY,
                    checkpoints=(
                        CheckpointSpec(
                            "findings",
                            "调查结论 / Findings",
                            TEXT,
                            text=(
                                "已与相关团队复盘，投诉事实属实。",
                                "Reviewed with the teams involved; the complaint is justified.",
                            ),
                        ),
                        CheckpointSpec("evidence", "证据材料 / Evidence", FILE, mandatory=False),
                    ),
                ),
                StepSpec(
                    "remedy",
                    "整改与补救方案 / Corrective action and remedy",
                    FRONTLINE,
                    2 * WORKING_DAY,
                    guidance=(
                        "- 整改措施针对根本原因；补偿方案须经服务经理批准。\n\n"
                        "- The corrective action addresses the root cause; any compensation needs the "
                        "service manager's approval."
                    ),
                    checkpoints=(
                        CheckpointSpec(
                            "action",
                            "整改措施与补救 / Corrective action and remedy",
                            TEXT,
                            text=("{resolution}", "{resolution}"),
                        ),
                        CheckpointSpec(
                            "approved",
                            "服务经理已批准 / Approved by the service manager",
                            YES_NO,
                            critical=True,
                        ),
                    ),
                ),
                StepSpec(
                    "reply",
                    "答复客户 / Reply to the customer",
                    FRONTLINE,
                    4 * HOUR,
                    milestone="已答复处理结果 / Outcome communicated",
                    checkpoints=(
                        CheckpointSpec(
                            "accepted",
                            "客户接受处理结果 / Customer accepts the outcome",
                            YES_NO,
                            critical=True,
                        ),
                    ),
                ),
                StepSpec(
                    "review",
                    "质量复盘 / Quality review",
                    FRONTLINE,
                    WORKING_DAY,
                    checkpoints=(
                        CheckpointSpec(
                            "lesson",
                            "经验教训与预防措施 / Lesson and prevention",
                            TEXT,
                            text=(
                                "列入本月服务质量例会，跟踪整改落实。",
                                "On this month's service quality review; the corrective action is tracked.",
                            ),
                        ),
                        CUSTOMER_SATISFACTION,
                    ),
                ),
            ),
        ),
    ),
)

SOPS = (FAULT_REPAIR, REMOTE_SUPPORT, INSTALLATION, PREVENTIVE_MAINTENANCE, CONSULTATION, COMPLAINT_HANDLING)

INSTALLATION_TYPE, FAULT_REPAIR_TYPE, MAINTENANCE_TYPE, REMOTE_TYPE, CONSULTATION_TYPE, COMPLAINT_TYPE = (
    "installation",
    "fault-repair",
    "preventive-maintenance",
    "remote-support",
    "consultation",
    "complaint-handling",
)

# The catalogue, in the order customers see it. Targets given here replace the matching SLA policy's for
# tickets of the type (business minutes on the policy's calendar); the others follow the policies.
SERVICE_TYPES = (
    ServiceTypeSpec(
        INSTALLATION_TYPE,
        "安装调试 / Installation and commissioning",
        "新设备到货后的安装、调试、精度检验和操作培训；到货后 3 个工作日内到场，10 个工作日内验收。"
        "由销售订单触发，服务台登记。 / Installing, commissioning and accuracy-checking a new machine and "
        "training its operators: on site within 3 working days of delivery, accepted within 10. Booked by "
        "the service desk from the sales order.",
        FIELD_CATEGORY,
        Kind.FIELD_VISIT,
        Priority.P3,
        ("installation", "commissioning", "geometric-accuracy"),
        INSTALLATION.code,
        resolution=10 * WORKING_DAY,
        on_site=3 * WORKING_DAY,
        customer_selectable=False,
    ),
    ServiceTypeSpec(
        FAULT_REPAIR_TYPE,
        "故障维修 / Fault repair",
        "设备故障的现场维修：远程排查后派工程师上门，备件与预约同时准备。时限按故障优先级的 SLA 政策。"
        " / On-site repair of a machine fault: remote troubleshooting first, then an engineer on site, with "
        "the parts and the booking prepared side by side. Targets follow the SLA policy of the fault's "
        "priority.",
        FIELD_CATEGORY,
        Kind.FAULT,
        Priority.P2,
        ("mechanical", "electrical", "hydraulics"),
        FAULT_REPAIR.code,
    ),
    ServiceTypeSpec(
        MAINTENANCE_TYPE,
        "预防性维护 / Preventive maintenance",
        "按合同的定期保养、巡检和校准，提前预约，10 个工作日内完成。"
        " / Scheduled maintenance, inspections and calibration under contract, booked ahead and done within "
        "10 working days.",
        FIELD_CATEGORY,
        Kind.FIELD_VISIT,
        Priority.P4,
        ("preventive-maintenance", "lubrication", "vibration-analysis"),
        PREVENTIVE_MAINTENANCE.code,
        resolution=10 * WORKING_DAY,
    ),
    ServiceTypeSpec(
        REMOTE_TYPE,
        "远程支持 / Remote support",
        "电话和远程连接诊断、参数恢复和软件升级，由技术支持分析。"
        " / Diagnosis over the phone and a remote connection, parameter restores and software upgrades, "
        "analysed by technical support.",
        REMOTE_CATEGORY,
        Kind.FAULT,
        Priority.P3,
        ("remote-diagnostics", "cnc-controller", "plc"),
        REMOTE_SUPPORT.code,
    ),
    ServiceTypeSpec(
        CONSULTATION_TYPE,
        "咨询 / Consultation",
        "保修、合同、技术和交货期咨询，2 个工作日内答复。"
        " / Questions about warranty, contracts, technical matters and lead times, answered within 2 working "
        "days.",
        ADVISORY_CATEGORY,
        Kind.INQUIRY,
        Priority.P4,
        ("warranty", "contracts", "applications"),
        CONSULTATION.code,
        resolution=2 * WORKING_DAY,
    ),
    ServiceTypeSpec(
        COMPLAINT_TYPE,
        "投诉处理 / Complaint handling",
        "对服务的投诉：服务台主管 1 小时内致电，2 个工作日内给出处理结果。客户可在门户直接投诉。"
        " / Complaints about our service: the desk lead calls within the hour and the outcome follows within "
        "2 working days. Customers can complain straight from the portal.",
        COMPLAINT_CATEGORY,
        Kind.COMPLAINT,
        Priority.P2,
        ("customer-relations",),
        COMPLAINT_HANDLING.code,
    ),
)


# --- Ticket stories ---------------------------------------------------------------------------------

# How a ticket gets handled: solved remotely by the desk, by a field engineer on site, with help from
# technical support, by shipping a part, straight answered by the desk, as a complaint, as a planned visit.
REMOTE, ONSITE, BACKOFFICE, SHIP, ANSWER, COMPLAINT, VISIT = (
    "remote",
    "onsite",
    "backoffice",
    "ship",
    "answer",
    "complaint",
    "visit",
)


@dataclass(frozen=True)
class Scenario:
    """One kind of ticket. Texts may use {model}, {serial}, {site} and {warranty_end}."""

    kind: str
    categories: tuple[str, ...]  # equipment it happens on; () needs no asset
    routes: tuple[str, ...]
    priorities: tuple[str, ...]
    subject: ZhEn
    description: ZhEn
    diagnosis: ZhEn
    resolution: ZhEn
    weight: int = 2
    parts_on_site: bool = False  # an on-site repair that waits for a part
    # The service type (SERVICE_TYPES) of the ticket; a fault's follows its route (FAULT_SERVICES).
    service: str = ""


P1, P2, P3, P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4
# A fault repaired on site follows the fault-repair SOP; one fixed remotely, with or without technical
# support, the remote-support SOP; a part shipped for the customer to fit, none.
FAULT_SERVICES = {ONSITE: FAULT_REPAIR_TYPE, REMOTE: REMOTE_TYPE, BACKOFFICE: REMOTE_TYPE}

FAULTS = (
    Scenario(
        Kind.FAULT,
        CNC,
        (REMOTE, ONSITE, SHIP),
        (P1, P2, P2, P3),
        ("主轴过热报警，设备停机", "Spindle overheat alarm stops the machine"),
        (
            "{model}（序列号 {serial}）连续加工约两小时后出现主轴过热报警，主轴温度显示 68°C，设备自动停机。",
            "The {model} (serial {serial}) raises a spindle overheat alarm after about two hours of cutting; "
            "the spindle reads 68 °C and the machine stops.",
        ),
        (
            "主轴油冷机回油滤网堵塞，冷却油流量只有额定值的一半左右。",
            "the spindle oil chiller's return filter is clogged, so oil flow is about half the rated value.",
        ),
        (
            "已清洗油冷机滤网并更换冷却油，连续空运转 4 小时主轴温度稳定在 38°C。建议每季度清洗一次滤网。",
            "We cleaned the oil chiller filter and replaced the cooling oil; over a 4-hour run the spindle "
            "stays at 38 °C. Please clean the filter every quarter.",
        ),
        weight=4,
    ),
    Scenario(
        Kind.FAULT,
        (MACHINING,),
        (ONSITE, REMOTE),
        (P2, P2, P3),
        ("换刀时刀库卡刀", "Tool changer jams during tool change"),
        (
            "自动换刀到 T12 时机械手卡住，报警 2041 刀库位置异常，只能手动复位。",
            "The arm jams when changing to T12 with alarm 2041 (magazine position error); we can only "
            "recover it by hand.",
        ),
        ("刀库原点接近开关松动，信号间歇丢失。", "the magazine home switch is loose and drops its signal."),
        (
            "重新固定并调整原点开关间隙，校正刀库原点，连续换刀 200 次无异常。",
            "We refastened and re-gapped the home switch and re-referenced the magazine: 200 tool changes "
            "in a row without a fault.",
        ),
        weight=3,
    ),
    Scenario(
        Kind.FAULT,
        CNC,
        (BACKOFFICE, SHIP, ONSITE),
        (P1, P2),
        ("X 轴伺服报警 SV0401", "X-axis servo alarm SV0401"),
        (
            "开机回零时 X 轴报警 SV0401（伺服未就绪），断电重启后偶尔可以恢复。",
            "The X axis raises SV0401 (servo not ready) while homing after power-on; a power cycle "
            "sometimes clears it.",
        ),
        (
            "伺服放大器的 MCC 接触器触点烧蚀，吸合不可靠。",
            "the servo amplifier's MCC contactor has pitted contacts and does not close reliably.",
        ),
        (
            "已更换 MCC 接触器，检查伺服电源电压正常，连续开关机 20 次未再报警。",
            "We replaced the MCC contactor and checked the servo supply: 20 power cycles without the alarm.",
        ),
        weight=3,
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        CNC,
        (BACKOFFICE, ONSITE),
        (P2, P3),
        ("加工尺寸漂移，精度超差", "Machined dimensions drift out of tolerance"),
        (
            "早班首件合格，中午以后孔距偏差达到 0.03 mm，超出图纸要求 ±0.01 mm。",
            "The first parts in the morning are good; from midday the hole pitch is off by 0.03 mm against "
            "a ±0.01 mm tolerance.",
        ),
        (
            "热伸长补偿参数被误改，丝杠预拉伸量不足。",
            "the thermal growth compensation was changed by mistake and the ball-screw pre-tension is low.",
        ),
        (
            "已恢复热补偿参数并重新做丝杠预拉伸，激光干涉仪检测定位精度 0.006 mm。",
            "We restored the thermal compensation and re-tensioned the ball screw; the interferometer shows "
            "0.006 mm positioning accuracy.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        CNC,
        (REMOTE,),
        (P3,),
        ("冷却液泵不出水", "Coolant pump delivers no coolant"),
        (
            "执行 M08 后冷却泵在转，但喷嘴没有冷却液，水箱液位正常。",
            "With M08 the coolant pump runs but nothing comes out of the nozzles; the tank level is fine.",
        ),
        ("泵入口过滤网被切屑堵死。", "the pump inlet strainer is packed with chips."),
        (
            "已指导现场人员清理泵入口滤网和水箱切屑，冷却恢复正常。建议加装磁性排屑过滤。",
            "We talked the operator through clearing the inlet strainer and the chips in the tank; coolant "
            "flows again. A magnetic chip separator would help.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (MACHINING,),
        (ONSITE,),
        (P2,),
        ("主轴高速运转异响", "Spindle whines above 8,000 rpm"),
        (
            "主轴转速超过 8000 rpm 时有明显尖锐异响，振动值偏大。",
            "Above 8,000 rpm the spindle makes a sharp whine and vibration is high.",
        ),
        (
            "振动频谱显示前轴承外圈故障频率，需要更换主轴轴承。",
            "the vibration spectrum shows the front bearing's outer-race frequency; the bearings must be "
            "replaced.",
        ),
        (
            "已更换主轴前后轴承并做动平衡，振动值由 4.5 mm/s 降到 0.8 mm/s。",
            "We replaced the front and rear spindle bearings and balanced the spindle; vibration is down "
            "from 4.5 to 0.8 mm/s.",
        ),
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        CNC,
        (BACKOFFICE, ONSITE),
        (P1,),
        ("数控系统黑屏，无法启动", "Controller screen stays black at power-on"),
        (
            "今天早上开机后系统屏幕黑屏，电源指示灯亮，无法进入系统，整条线停产。",
            "This morning the controller screen stayed black; the power LED is on but it will not boot and "
            "the line is stopped.",
        ),
        ("系统 CF 卡文件损坏。", "the system CF card is corrupted."),
        (
            "已用备份恢复系统 CF 卡，并恢复参数和 PMC 程序，设备恢复生产。请定期备份参数。",
            "We restored the CF card from the backup, with the parameters and the PMC program; the machine "
            "is producing again. Please back up parameters regularly.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        CNC,
        (REMOTE, SHIP),
        (P3,),
        ("导轨润滑压力低报警", "Way lubrication low-pressure alarm"),
        (
            "每隔半小时出现一次润滑压力低报警，润滑油箱是满的。",
            "A low lubrication pressure alarm appears every half hour although the lube tank is full.",
        ),
        ("润滑泵出口单向阀卡滞。", "the check valve at the lube pump outlet sticks."),
        (
            "已清洗单向阀并更换润滑泵滤芯，压力恢复到 1.5 MPa。",
            "The check valve was cleaned and the lube filter replaced; pressure is back at 1.5 MPa.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (LATHE,),
        (SHIP, ONSITE),
        (P2,),
        ("卡盘液压系统压力不足，工件打滑", "Chuck hydraulic pressure too low, parts slip"),
        (
            "液压站压力只能到 2.5 MPa（设定 4 MPa），重切削时工件打滑。",
            "The hydraulic unit only reaches 2.5 MPa (set point 4 MPa) and parts slip under heavy cuts.",
        ),
        ("液压泵磨损，内泄严重。", "the hydraulic pump is worn and leaks internally."),
        (
            "已更换液压泵并重新设定压力，夹紧力恢复正常。",
            "We replaced the hydraulic pump and reset the pressure; clamping force is normal again.",
        ),
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        (LATHE,),
        (REMOTE, ONSITE),
        (P2, P3),
        ("刀塔转位不到位报警", "Turret does not index fully"),
        (
            "刀塔转位时报警“刀塔未锁紧”，有时要反复转几次才行。",
            "The turret alarms 'turret not clamped' when indexing and sometimes needs several tries.",
        ),
        ("刀塔锁紧检测开关油污严重，信号不稳定。", "the turret clamp sensor is coated in oil and flickers."),
        (
            "已清洁并重新调整锁紧检测开关，更换了渗油的密封圈。",
            "We cleaned and readjusted the clamp sensor and replaced the seal that let oil in.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (LASER,),
        (BACKOFFICE, ONSITE),
        (P2,),
        ("激光功率预热后下降", "Laser power drops after warm-up"),
        (
            "开机半小时后实际输出功率从 6 kW 降到 4.8 kW 左右，厚板切不透。",
            "After half an hour the measured output falls from 6 kW to about 4.8 kW and thick plate no "
            "longer cuts through.",
        ),
        (
            "冷水机激光器回路水温偏高 3°C，激光器降功率保护；冷水机冷凝器积灰。",
            "the chiller's laser circuit runs 3 °C warm so the source derates itself; the condenser is "
            "clogged with dust.",
        ),
        (
            "已清洗冷水机冷凝器并更换去离子滤芯，连续切割 3 小时功率稳定在 5.95 kW。",
            "We cleaned the chiller condenser and replaced the deionising filter; output holds at 5.95 kW "
            "over a 3-hour run.",
        ),
        weight=4,
    ),
    Scenario(
        Kind.FAULT,
        (LASER,),
        (REMOTE, ONSITE),
        (P3,),
        ("切割断面挂渣严重", "Heavy dross on the cut edge"),
        (
            "切 10 mm 碳钢时下表面挂渣严重，换了新喷嘴也一样。",
            "Cutting 10 mm mild steel leaves heavy dross underneath, even with a new nozzle.",
        ),
        ("焦点位置偏移 0.8 mm，聚焦镜有轻微污染。", "the focus has shifted by 0.8 mm and the lens is dirty."),
        (
            "已清洁聚焦镜、重新标定焦点并优化切割工艺参数，断面质量恢复。",
            "We cleaned the focusing lens, re-calibrated the focus and updated the cutting table; edge "
            "quality is back.",
        ),
        weight=3,
    ),
    Scenario(
        Kind.FAULT,
        (LASER,),
        (SHIP, REMOTE),
        (P1, P2),
        ("切割头碰撞报警，无法复位", "Cutting head collision alarm will not reset"),
        (
            "切割头撞到翘起的板料后报碰撞，复位后仍持续报警。",
            "The head hit a tipped-up part; since then the collision alarm stays on after reset.",
        ),
        ("电容调高传感器陶瓷环破裂。", "the ceramic ring of the capacitive height sensor is cracked."),
        (
            "已更换陶瓷环和喷嘴，重新做电容标定，调高功能正常。",
            "The ceramic ring and nozzle are replaced and the height sensor re-calibrated; height control "
            "works.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (LASER,),
        (ONSITE,),
        (P2,),
        ("冷水机高温报警，激光器停光", "Chiller high-temperature alarm shuts the laser off"),
        (
            "下午车间温度高时冷水机报 E3 高温报警，激光器随之停光。",
            "In the afternoon heat the chiller raises E3 (high temperature) and the laser source shuts off.",
        ),
        ("冷水机制冷剂不足。", "the chiller is low on refrigerant."),
        (
            "检漏后补焊冷凝器接头并补充制冷剂，出水温度稳定在 25°C。",
            "We found and brazed a leaking condenser joint and recharged the refrigerant; outlet water holds "
            "at 25 °C.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (LASER,),
        (REMOTE, ONSITE),
        (P3,),
        ("保护镜片频繁烧损", "Protective window burns out every shift"),
        (
            "最近一周每班都要换保护镜片，镜片中心有烧点。",
            "For a week we have had to change the protective window every shift; it burns in the centre.",
        ),
        (
            "辅助气体含油含水，空压机后处理失效。",
            "the assist gas carries oil and water: the air treatment failed.",
        ),
        (
            "已更换精密过滤器滤芯并检修冷干机，保护镜片寿命恢复到两周以上。",
            "We replaced the fine filter elements and repaired the refrigerated dryer; windows last over two "
            "weeks again.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (LASER,),
        (ONSITE, SHIP),
        (P2,),
        ("交换工作台不动作", "Exchange table does not move"),
        (
            "交换工作台停在中间位置，报警“交换链条超时”。",
            "The exchange table stops halfway with 'exchange chain timeout'.",
        ),
        ("交换台链条张紧不足，跳齿。", "the exchange chain is slack and has jumped a tooth."),
        (
            "已调整链条张紧并更换磨损链轮，交换动作正常。",
            "We re-tensioned the chain and replaced the worn sprocket; the table exchanges normally.",
        ),
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        (COMPRESSOR,),
        (ONSITE, REMOTE),
        (P1, P2),
        ("空压机排气温度过高停机", "Compressor trips on high discharge temperature"),
        (
            "排气温度升到 110°C 后停机，车间用气中断。",
            "Discharge temperature climbs to 110 °C and the compressor trips; the plant loses air.",
        ),
        (
            "油冷却器外侧积尘严重，温控阀卡在小开度。",
            "the oil cooler is caked with dust and the thermostatic valve is stuck partly closed.",
        ),
        (
            "已清洗油冷却器，更换温控阀芯和润滑油，满载排气温度 82°C。",
            "We cleaned the oil cooler and replaced the thermostatic element and the oil; discharge "
            "temperature at full load is 82 °C.",
        ),
        weight=4,
    ),
    Scenario(
        Kind.FAULT,
        (COMPRESSOR,),
        (SHIP, ONSITE),
        (P2, P3),
        ("压缩空气含油量大", "Oil carry-over in the compressed air"),
        (
            "下游过滤器排出很多油，用气设备上有油污。",
            "Downstream filters drain a lot of oil and the air tools are getting oily.",
        ),
        ("油分芯破损，回油管堵塞。", "the separator element is ruptured and the scavenge line is blocked."),
        (
            "已更换油分芯并疏通回油管，含油量恢复到 3 ppm 以下。",
            "We replaced the separator element and cleared the scavenge line; oil content is under 3 ppm.",
        ),
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        (COMPRESSOR,),
        (SHIP, REMOTE),
        (P1, P2),
        ("空压机只加载不卸载", "Compressor does not unload"),
        (
            "压力到 0.8 MPa 后仍持续加载，安全阀起跳。",
            "It keeps loading above 0.8 MPa until the safety valve lifts.",
        ),
        ("进气阀电磁阀线圈烧坏。", "the inlet valve solenoid coil has burnt out."),
        (
            "已更换进气阀电磁阀，加卸载压力恢复 0.65/0.8 MPa。",
            "We replaced the inlet valve solenoid; it loads and unloads at 0.65/0.8 MPa again.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (COMPRESSOR,),
        (BACKOFFICE, ONSITE),
        (P2,),
        ("变频器故障代码 E.OC3", "Inverter fault E.OC3"),
        (
            "启动约 10 秒后变频器报 E.OC3 过流，复位后可以再启动。",
            "About 10 s after start the drive trips on E.OC3 (overcurrent); it restarts after a reset.",
        ),
        (
            "变频器加速时间参数过短，且主电机轴承有异常。",
            "the drive's acceleration time is too short and the motor bearing is rough.",
        ),
        (
            "已调整加速时间并更换电机轴承，连续运行一周未再报警。",
            "We lengthened the acceleration ramp and replaced the motor bearing: a week without a trip.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (INJECTION,),
        (SHIP, ONSITE, BACKOFFICE),
        (P2,),
        ("注塑机液压系统压力不足", "Hydraulic system pressure too low"),
        (
            "注射压力达不到设定值，产品缺料，液压油温正常。",
            "Injection pressure does not reach the set point and parts come out short; oil temperature is "
            "normal.",
        ),
        ("比例溢流阀阀芯磨损。", "the proportional relief valve spool is worn."),
        (
            "已更换比例溢流阀并重新标定压力曲线，产品恢复合格。",
            "We replaced the proportional relief valve and re-calibrated the pressure curve; parts are "
            "good again.",
        ),
        weight=4,
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        (INJECTION,),
        (REMOTE, SHIP),
        (P2,),
        ("料筒第三段加热不升温", "Barrel heater zone 3 does not heat"),
        (
            "第三段温度只有 120°C（设定 230°C），其他各段正常。",
            "Zone 3 sits at 120 °C (set 230 °C); the other zones are fine.",
        ),
        ("第三段加热圈断路。", "the zone 3 heater band is open-circuit."),
        (
            "已更换加热圈和固态继电器，温度控制正常。",
            "The heater band and its solid-state relay are replaced; temperature control is normal.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (INJECTION,),
        (SHIP, ONSITE),
        (P3,),
        ("产品飞边，射胶量不稳定", "Flash on parts and unstable shot size"),
        (
            "同一副模具射胶量波动 ±1.5 g，产品出现飞边。",
            "Shot weight varies by ±1.5 g on the same mould and the parts show flash.",
        ),
        ("螺杆止逆环磨损回流。", "the check ring is worn and lets melt flow back."),
        (
            "已更换螺杆头止逆环组件，射胶量波动小于 0.2 g。",
            "We replaced the screw tip check ring assembly; shot weight now varies by less than 0.2 g.",
        ),
        parts_on_site=True,
    ),
    Scenario(
        Kind.FAULT,
        (INJECTION,),
        (REMOTE, BACKOFFICE),
        (P2,),
        ("合模不到位报警", "Mould clamp does not close fully"),
        (
            "高压合模时报警“合模未终止”，模具无法锁紧。",
            "High-pressure clamping raises 'clamp not completed' and the mould will not lock.",
        ),
        ("合模位置电子尺零点漂移。", "the clamp position transducer's zero has drifted."),
        (
            "已重新标定电子尺零点和合模终止位置，试模正常。",
            "We re-zeroed the position transducer and the clamp end position; trial shots are fine.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (INJECTION,),
        (REMOTE, ONSITE),
        (P3,),
        ("液压油温过高报警", "Hydraulic oil overheating"),
        (
            "连续生产 4 小时后油温超过 55°C 报警。",
            "After four hours of production the oil goes above 55 °C and alarms.",
        ),
        ("冷却器水路结垢，冷却水流量不足。", "the oil cooler's water side is scaled and flow is low."),
        (
            "已对冷却器除垢并清洗水路，油温稳定在 45°C 以下。",
            "We descaled the oil cooler and flushed the water circuit; the oil stays below 45 °C.",
        ),
    ),
    Scenario(
        Kind.FAULT,
        (PRESS,),
        (ONSITE, REMOTE),
        (P3,),
        ("折弯角度左右不一致", "Bending angle differs left to right"),
        (
            "折弯 2 米长工件时左右角度相差 1.5°。",
            "On 2 m long parts the angle differs by 1.5° between the left and right ends.",
        ),
        (
            "Y1/Y2 光栅尺需要重新标定，挠度补偿参数不当。",
            "the Y1/Y2 scales need re-calibration and the crowning settings are wrong.",
        ),
        (
            "已重新标定 Y1/Y2 并调整挠度补偿，全长角度偏差小于 0.3°。",
            "We re-calibrated Y1/Y2 and adjusted the crowning; the angle varies by less than 0.3° along the "
            "length.",
        ),
        weight=3,
    ),
    Scenario(
        Kind.FAULT,
        (PRESS,),
        (SHIP, ONSITE),
        (P3,),
        ("后挡料定位不准", "Back gauge positioning inaccurate"),
        (
            "后挡料 X 轴定位误差约 0.5 mm，批量产品尺寸不一致。",
            "The back gauge X axis is off by about 0.5 mm and batch dimensions vary.",
        ),
        ("同步带磨损打滑。", "the timing belt is worn and slipping."),
        (
            "已更换同步带并重新回零标定，定位误差在 0.05 mm 以内。",
            "We replaced the timing belt and re-referenced the axis; positioning is within 0.05 mm.",
        ),
    ),
)

REQUESTS = (
    Scenario(
        Kind.REQUEST,
        ANY_EQUIPMENT,
        (ONSITE,),
        (P3, P4),
        ("申请年度预防性维护", "Annual preventive maintenance"),
        (
            "{model}（{serial}）已运行满一年，请安排年度保养。",
            "Our {model} ({serial}) has run for a year; please schedule the annual maintenance.",
        ),
        ("", ""),
        (
            "年度保养已完成：更换滤芯和润滑油，检查精度和安全回路，保养报告已发到您的邮箱。",
            "Annual maintenance is done: filters and oil replaced, accuracy and safety circuits checked; "
            "the report is in your inbox.",
        ),
        weight=4,
        service=MAINTENANCE_TYPE,
    ),
    Scenario(
        Kind.REQUEST,
        ANY_EQUIPMENT,
        (ONSITE,),
        (P4,),
        ("新员工操作培训", "Operator training for new staff"),
        (
            "新招了 4 名操作工，请安排一次 {model} 操作和日常点检培训。",
            "We have hired four new operators; please arrange training on operating the {model} and its "
            "daily checks.",
        ),
        ("", ""),
        (
            "培训已完成（理论 2 小时 + 实操 4 小时），签到表和培训资料已发到您的邮箱。",
            "Training is done (2 h classroom + 4 h hands-on); the attendance sheet and materials are in "
            "your inbox.",
        ),
    ),
    Scenario(
        Kind.REQUEST,
        ANY_EQUIPMENT,
        (SHIP,),
        (P4,),
        ("易损件报价", "Quotation for wear parts"),
        (
            "请报价 {model} 常用易损件一套（滤芯、密封圈、保险丝），用于备库。",
            "Please quote a set of common wear parts for the {model} (filters, seals, fuses) for our stock.",
        ),
        ("", ""),
        (
            "报价单已发到您的邮箱，有效期 30 天；您确认订单后现货次日发出。",
            "The quotation is in your inbox and is valid for 30 days; stock items ship the day after you "
            "order.",
        ),
        weight=3,
    ),
    Scenario(
        Kind.REQUEST,
        (MACHINING, LATHE, LASER, PRESS),
        (ONSITE,),
        (P3,),
        ("设备搬迁后重新调平", "Relevel a machine after relocation"),
        (
            "{model} 已搬到 {site}，需要重新调平并检测精度。",
            "The {model} has moved to {site}; it needs relevelling and an accuracy check.",
        ),
        ("", ""),
        (
            "已完成调平和几何精度检测，全部项目合格。",
            "Levelling and the geometric accuracy check are done; every item is within specification.",
        ),
    ),
    Scenario(
        Kind.REQUEST,
        (MACHINING, LASER),
        (BACKOFFICE,),
        (P4,),
        ("数控系统软件升级", "Controller software upgrade"),
        (
            "希望把 {model} 的系统软件升级到最新版本，以使用新的加工功能。",
            "We would like the {model} controller upgraded to the latest software to get the new features.",
        ),
        ("新版本兼容该设备的硬件配置。", "the new release is compatible with this machine's hardware."),
        (
            "已在备份参数后远程完成软件升级，新功能说明已发到您的邮箱。",
            "We backed up the parameters and upgraded the software remotely; the release notes are in your "
            "inbox.",
        ),
        service=REMOTE_TYPE,
    ),
    Scenario(
        Kind.REQUEST,
        ANY_EQUIPMENT,
        (BACKOFFICE,),
        (P4,),
        ("索取电气图纸", "Electrical drawings needed"),
        (
            "维修需要，请提供 {model}（{serial}）的电气原理图。",
            "For maintenance we need the electrical schematics of the {model} ({serial}).",
        ),
        ("图纸版本与该序列号出厂配置一致。", "the drawing revision matches this serial number as built."),
        (
            "电气图纸 PDF 已通过邮件发送，与设备出厂配置一致。",
            "The schematics (PDF) are in your inbox; they match the machine as built.",
        ),
    ),
)

COMPLAINTS = (
    Scenario(
        Kind.COMPLAINT,
        ANY_EQUIPMENT,
        (COMPLAINT,),
        (P2,),
        ("工程师上门迟到三个小时", "Engineer arrived three hours late"),
        (
            "约好上午 9 点到场，工程师 12 点才到，产线白等了一上午，也没有人提前通知。",
            "The engineer was due at 9 am but arrived at noon; the line waited all morning and nobody "
            "called.",
        ),
        ("", ""),
        (
            "经核实是前一单延误且没有及时通知您。我们已调整派工规则：延误超过 30 分钟必须主动电话告知。"
            "本次上门服务费减免。",
            "We confirmed the previous job overran and nobody told you. Dispatch now requires a call for any "
            "delay over 30 minutes, and this visit is free of charge.",
        ),
        service=COMPLAINT_TYPE,
    ),
    Scenario(
        Kind.COMPLAINT,
        ANY_EQUIPMENT,
        (COMPLAINT,),
        (P2,),
        ("同一故障一个月内第三次出现", "Same fault for the third time this month"),
        (
            "{model} 同样的报警本月已经出现三次，每次修好只能维持一周左右。",
            "The {model} has shown the same alarm three times this month; each repair lasts about a week.",
        ),
        ("", ""),
        (
            "技术支持已完成根本原因分析，这次更换了整个故障组件而不是单个元件，接下来 30 天每周回访一次。",
            "Technical support finished a root-cause analysis: this time we replaced the whole assembly, "
            "not a "
            "single component, and we will check in every week for 30 days.",
        ),
        service=COMPLAINT_TYPE,
    ),
    Scenario(
        Kind.COMPLAINT,
        ANY_EQUIPMENT,
        (COMPLAINT,),
        (P2, P3),
        ("备件发货太慢，设备停机五天", "Spare part took five days; machine down all week"),
        (
            "备件承诺两天到货，实际等了五天，期间设备无法生产。",
            "The part was promised in two days but took five, and the machine could not run meanwhile.",
        ),
        ("", ""),
        (
            "原因是中心库缺货后没有及时从区域库调拨。该备件已纳入华东区域安全库存，另赠送一次免费保养。",
            "The central warehouse was out of stock and the transfer from the regional stock was not "
            "expedited. The part is now in the East China safety stock, and we will add a free service "
            "visit.",
        ),
        service=COMPLAINT_TYPE,
    ),
    Scenario(
        Kind.COMPLAINT,
        (),
        (COMPLAINT,),
        (P3,),
        ("服务热线长时间无人接听", "Service hotline not answered"),
        (
            "周六下午打服务热线，20 分钟都没人接。",
            "On Saturday afternoon nobody answered the service hotline for 20 minutes.",
        ),
        ("", ""),
        (
            "经核查周六排班人手不足，现已增加周末值班，热线占线时自动转接到值班手机。",
            "The Saturday rota was short-staffed; we have added weekend cover and busy calls now forward "
            "to the "
            "duty phone.",
        ),
        weight=1,
        service=COMPLAINT_TYPE,
    ),
)

SUGGESTIONS = (
    Scenario(
        Kind.SUGGESTION,
        (),
        (ANSWER,),
        (P4,),
        ("建议开通微信报修入口", "Suggestion: report faults through WeChat"),
        (
            "我们的操作工都习惯用微信，建议开通微信报修和进度查询。",
            "Our operators live on WeChat; please consider WeChat fault reporting and status updates.",
        ),
        ("", ""),
        (
            "感谢建议！已提交产品团队评估，计划下个季度上线微信通知。",
            "Thank you! The product team is evaluating it and plans WeChat notifications next quarter.",
        ),
    ),
    Scenario(
        Kind.SUGGESTION,
        ANY_EQUIPMENT,
        (ANSWER,),
        (P4,),
        ("建议在操作面板显示报警处理建议", "Suggestion: show what to do on the alarm screen"),
        (
            "{model} 报警时只显示代码，建议在面板上直接显示中文处理建议。",
            "When the {model} alarms it shows only a code; please show the recommended action on the panel.",
        ),
        ("", ""),
        (
            "感谢建议，已列入下一版系统软件的需求清单。",
            "Thank you; it is on the requirements list for the next controller software release.",
        ),
    ),
    Scenario(
        Kind.SUGGESTION,
        (),
        (ANSWER,),
        (P4,),
        ("希望每季度收到设备健康报告", "Suggestion: quarterly machine health reports"),
        (
            "希望每个季度收到一份设备运行和保养状况的汇总报告。",
            "We would like a quarterly summary of machine condition and maintenance.",
        ),
        ("", ""),
        (
            "已记录。我们正在试点季度健康报告，贵司已加入试点名单。",
            "Noted. We are piloting quarterly health reports and have added you to the pilot.",
        ),
        weight=1,
    ),
)

INQUIRIES = (
    Scenario(
        Kind.INQUIRY,
        ANY_EQUIPMENT,
        (ANSWER,),
        (P4,),
        ("咨询保修截止日期", "When does our warranty end?"),
        (
            "请确认 {model}（{serial}）的保修截止日期。",
            "Please confirm the warranty end date of our {model} ({serial}).",
        ),
        ("", ""),
        (
            "经查询，该设备保修截止日期为 {warranty_end}。",
            "The warranty of this machine ends on {warranty_end}.",
        ),
        weight=3,
        service=CONSULTATION_TYPE,
    ),
    Scenario(
        Kind.INQUIRY,
        ANY_EQUIPMENT,
        (ANSWER,),
        (P4,),
        ("咨询延保合同价格", "Extended warranty pricing"),
        (
            "{model} 的保修快到期了，想了解延保和全包服务合同的价格。",
            "The warranty of our {model} ends soon; what do extended warranty and full-service contracts "
            "cost?",
        ),
        ("", ""),
        (
            "延保方案和报价已发到您的邮箱，客户经理会与您电话联系。",
            "The options and prices are in your inbox; your account manager will call you.",
        ),
        service=CONSULTATION_TYPE,
    ),
    Scenario(
        Kind.INQUIRY,
        ANY_EQUIPMENT,
        (ANSWER,),
        (P3, P4),
        ("设备是否支持远程诊断", "Does the machine support remote diagnostics?"),
        (
            "{model} 能否联网做远程诊断？需要什么网络条件？",
            "Can the {model} be connected for remote diagnostics? What network access does it need?",
        ),
        ("", ""),
        (
            "支持。需要一条能访问外网 443 端口的网线，我们提供安全网关，数据只出不进。",
            "Yes. It needs one network cable with outbound access on port 443; we supply a secure gateway "
            "and nothing can connect in.",
        ),
        service=CONSULTATION_TYPE,
    ),
    Scenario(
        Kind.INQUIRY,
        (),
        (ANSWER,),
        (P4,),
        ("询问 HR-LC6020 交货期", "Lead time for an HR-LC6020"),
        (
            "计划新增一台 12 kW 激光切割机，请问现在的交货期是多久？",
            "We plan to add a 12 kW laser cutter; what is the current lead time?",
        ),
        ("", ""),
        (
            "目前交货期约 8 周，已请销售同事与您联系。",
            "The lead time is about eight weeks; a sales colleague will contact you.",
        ),
        weight=1,
        service=CONSULTATION_TYPE,
    ),
)

VISITS = (
    Scenario(
        Kind.FIELD_VISIT,
        ANY_EQUIPMENT,
        (VISIT,),
        (P3,),
        ("新机安装调试", "Installation and commissioning"),
        (
            "新设备 {model}（{serial}）已到货 {site}，请安排安装调试。",
            "The new {model} ({serial}) has arrived at {site}; please schedule installation and "
            "commissioning.",
        ),
        ("", ""),
        (
            "安装调试完成，精度验收合格，操作人员已培训，验收单已签字。",
            "Installed and commissioned: accuracy acceptance passed, operators trained and the acceptance "
            "form signed.",
        ),
        weight=2,
        service=INSTALLATION_TYPE,
    ),
    Scenario(
        Kind.FIELD_VISIT,
        ANY_EQUIPMENT,
        (VISIT,),
        (P3, P4),
        ("季度巡检", "Quarterly inspection visit"),
        (
            "按服务合同进行季度巡检：{model}（{serial}），{site}。",
            "Quarterly inspection under the service contract: {model} ({serial}) at {site}.",
        ),
        ("", ""),
        (
            "巡检完成：各项指标正常，建议下次保养时更换传动皮带。",
            "Inspection done: all readings normal; the drive belt should be replaced at the next service.",
        ),
        weight=4,
        service=MAINTENANCE_TYPE,
    ),
    Scenario(
        Kind.FIELD_VISIT,
        (LASER,),
        (VISIT,),
        (P3,),
        ("激光器光路校准", "Beam path alignment"),
        (
            "利用计划停机时间进行光路校准和镜片检查。",
            "Beam path alignment and optics check during the planned shutdown.",
        ),
        ("", ""),
        (
            "光路已校准，更换 2 片保护镜，功率测试 100%。",
            "The beam path is aligned, two protective windows replaced and the power test reads 100 %.",
        ),
        service=MAINTENANCE_TYPE,
    ),
    Scenario(
        Kind.FIELD_VISIT,
        CNC,
        (VISIT,),
        (P3,),
        ("激光干涉仪精度检测与补偿", "Accuracy check and compensation with a laser interferometer"),
        (
            "年度精度检测：按 ISO 230-2 检测定位精度并补偿。",
            "Annual accuracy check: positioning accuracy measured and compensated to ISO 230-2.",
        ),
        ("", ""),
        (
            "三轴定位精度检测及补偿完成，检测报告已通过邮件发送。",
            "All three axes measured and compensated; the report has been emailed.",
        ),
        service=MAINTENANCE_TYPE,
    ),
)

# How often each kind of ticket comes in.
KIND_WEIGHTS = (
    (FAULTS, 60),
    (REQUESTS, 12),
    (VISITS, 10),
    (INQUIRIES, 8),
    (COMPLAINTS, 5),
    (SUGGESTIONS, 5),
)

# --- What people write in the course of a ticket ----------------------------------------------------

ACKNOWLEDGE: tuple[ZhEn, ...] = (
    (
        "您好，我是华锐精机服务台的{me}，已收到您的工单，正在查看设备档案，稍后给您处理方案。",
        "Hello, this is {me} at the Huarui service desk. We have your ticket and are checking the machine's "
        "records; we'll come back with a plan shortly.",
    ),
    (
        "您好，工单已受理。我们先查看了这台设备的维修记录，马上与您联系。",
        "Thanks for reporting this. We are going through the machine's service history and will be in touch "
        "soon.",
    ),
    (
        "收到，已安排专人跟进，30 分钟内给您回电。",
        "Received. Someone is on it and will call you within 30 minutes.",
    ),
)
ASK_CUSTOMER: tuple[ZhEn, ...] = (
    (
        "请拍一张报警画面的照片发给我们，并告诉我们故障发生时设备在执行哪个程序。",
        "Could you send us a photo of the alarm screen and tell us which program was running when it "
        "happened?",
    ),
    (
        "请确认设备当前的系统软件版本，以及最近是否有人修改过参数。",
        "Please check the controller software version and whether anyone changed parameters recently.",
    ),
    (
        "方便的话请测一下设备进线的三相电压，我们需要先排除电源问题。",
        "If possible, please measure the three-phase supply at the machine so we can rule out the power "
        "supply.",
    ),
)
CUSTOMER_ANSWERS: tuple[ZhEn, ...] = (
    (
        "照片已发到服务邮箱。故障时在跑 O1023 程序，正加工第三个孔。",
        "Photo emailed. It was running O1023, on the third hole.",
    ),
    (
        "系统版本是 V3.2，上周有人改过一次进给参数。",
        "Software is V3.2; someone changed a feed parameter last week.",
    ),
    ("三相电压分别是 382/380/379 V。", "The supply reads 382/380/379 V."),
    ("按你们说的试过了，问题还在。", "We tried what you suggested and the problem is still there."),
)
DIAGNOSIS_REPLY: ZhEn = ("初步判断：{diagnosis}", "Our diagnosis: {diagnosis}")
PHONE_LOG: ZhEn = ("客户来电：{text}", "Customer called: {text}")
HAND_TO_FIELD: ZhEn = (
    "远程排查未能解决，转现场服务组安排工程师上门。",
    "Remote troubleshooting did not fix it; handing over to field service for a visit.",
)
PASS_TO_FIELD: ZhEn = ("已转现场服务组安排上门。", "Passed to field service to schedule the visit.")
PASS_TO_PARTS: ZhEn = ("转备件物流组报价。", "Passed to spare-parts logistics for the quotation.")
SCHEDULE_VISIT: ZhEn = (
    "您好，我是现场工程师{me}，已安排 {date} 上午到{site}处理，请提前安排停机并准备好操作人员。",
    "Hello, I'm {me} from field service. I'll be at {site} on the morning of {date}; please have the "
    "machine stopped and an operator available.",
)
ON_SITE_NOTE: ZhEn = (
    "已到场，设备停机挂牌，开始检查。{diagnosis}",
    "On site, machine locked out, work started. Finding: {diagnosis}",
)
ON_SITE_START: ZhEn = ("已到场，设备停机挂牌，开始作业。", "On site, machine locked out, work started.")
PART_NEEDED_REPLY: ZhEn = (
    "经诊断需要更换备件，我们已下单，备件到货后立即安排更换，届时会提前通知您。",
    "The diagnosis calls for a replacement part. It is on order and we'll fit it as soon as it arrives; "
    "we'll let you know the day before.",
)
PART_REQUEST_NOTE: ZhEn = (
    "需要更换备件，已提交备件申请，请备件物流组安排发货。",
    "Replacement part needed; requested from spare-parts logistics.",
)
PART_SHIPPED_NOTE: ZhEn = (
    "备件已从{warehouse}发出，顺丰单号 SF{tracking}，预计 {days} 天到达。",
    "Part shipped from the {warehouse}, tracking SF{tracking}, expected in {days} days.",
)
PART_COURIER_NOTE: ZhEn = (
    "产线停机，备件已安排专人从{warehouse}当日送达，预计 {hours} 小时到场。",
    "Line down: the part is on a same-day courier from the {warehouse}, expected in {hours} hours.",
)
WAREHOUSES: tuple[ZhEn, ...] = (
    ("苏州中心库", "Suzhou central warehouse"),
    ("广州区域库", "Guangzhou regional warehouse"),
    ("天津区域库", "Tianjin regional warehouse"),
)
PART_ARRIVED: ZhEn = ("备件已到货", "Part delivered")
ASK_BACK_OFFICE: ZhEn = (
    "请技术支持协助分析，报警履历和参数备份已存档。",
    "Technical support: please help analyse; the alarm history and parameter backup are on file.",
)
BACK_OFFICE_ANSWER: ZhEn = ("分析结论：{diagnosis}", "Analysis: {diagnosis}")
RESOLVED_FOOTER: ZhEn = (
    "如问题再次出现，请直接回复本工单。",
    "If the problem comes back, just reply to this ticket.",
)
CLOSE_BY_CUSTOMER: tuple[ZhEn, ...] = (
    ("已确认设备运行正常，谢谢！", "Confirmed the machine is running fine, thank you!"),
    ("问题解决了，感谢工程师的耐心。", "All good now, thanks to the engineer."),
)
CLOSE_BY_AGENT: ZhEn = ("电话回访确认已解决", "Confirmed resolved on a follow-up call")
REOPEN: ZhEn = (
    "今天早上同样的问题又出现了，请再看一下。",
    "The same problem came back this morning, please have another look.",
)
REOPEN_FIX: ZhEn = (
    "再次检查发现同一回路的接插件松动，已重新紧固并做防松处理，请继续观察。",
    "On a second look we found a loose connector in the same circuit; it is secured now, please keep an "
    "eye on it.",
)
PRIORITY_RAISED: ZhEn = ("客户产线停线，上调优先级。", "Customer's line is stopped; raising the priority.")
COMPLAINT_ACK: ZhEn = (
    "非常抱歉给您带来不便。我是服务台主管{me}，已经了解情况，今天之内给您答复。",
    "I'm very sorry for the trouble. I'm {me}, the service desk lead; I'm looking into it and will come back "
    "to you today.",
)
COMPLAINT_NOTE: ZhEn = (
    "已与相关团队复盘，本案列入本月服务质量例会。",
    "Reviewed with the teams involved; this case goes on this month's service quality review.",
)
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# What people write while they carry out an SOP (see SOPS).
PART_LIST: ZhEn = (
    "按诊断备件 1 套，{warehouse}发出，顺丰单号 SF{tracking}。",
    "One set per the diagnosis, shipped from the {warehouse}, tracking SF{tracking}.",
)
PART_COURIER_LIST: ZhEn = (
    "按诊断备件 1 套，{warehouse}当日专送。",
    "One set per the diagnosis, same-day courier from the {warehouse}.",
)
TEST_RUN_FAILED: ZhEn = (
    "试运行 {minutes} 分钟后报警再次出现，重新检查调整后继续试运行。",
    "The alarm came back {minutes} minutes into the test run; rechecked and adjusted, running again.",
)
RUN_FAILED: ZhEn = (
    "客户反馈：处理后运行 {hours} 小时报警再次出现。已远程再次调整，请继续观察。",
    "The customer reports the alarm came back after {hours} h; adjusted again remotely, please keep "
    "watching.",
)
VIBRATION_HIGH: ZhEn = (
    "振动速度 {value} mm/s 超标：电机底座螺栓松动，已重新紧固并找正，复测。",
    "Vibration at {value} mm/s is over the limit: the motor base bolts were loose; retightened and "
    "realigned, measuring again.",
)
LEVEL_OUT: ZhEn = (
    "水平度 {value} mm/m 超差，重新调整垫铁后复测。",
    "Levelness {value} mm/m is out of tolerance; re-shimming and measuring again.",
)
VOLTAGE_LOW: ZhEn = (
    "您好，贵司测得的进线电压为 {value} V，低于设备要求（380 V ±10 %）。"
    "请安排电工整改供电，整改后我们复测并预约安装。",
    "Hello, the supply you measured is {value} V, below what the machine needs (380 V ±10 %). Please have "
    "your electrician fix the supply; we will measure again and then book the installation.",
)
OVERRIDE_TEST_RUN: ZhEn = (
    "客户产线急需恢复生产，试运行 {minutes} 分钟后交付使用；72 小时内电话回访，如再报警立即上门。",
    "The customer needed the line back, so the machine was handed over after a {minutes}-minute test run; "
    "we call back within 72 hours and return at once if the alarm recurs.",
)
OVERRIDE_NO_BACKUP: ZhEn = (
    "修改参数前未做备份；已与设备自动备份逐项核对，参数无误。已对当事人进行流程辅导。",
    "Parameters were changed without a backup first; checked item by item against the controller's "
    "automatic backup and found correct. The agent has been coached on the procedure.",
)
OVERRIDE_NOT_ACCEPTED: ZhEn = (
    "客户对补偿方案仍有异议，但整改措施已落实；由服务经理另行商务沟通，投诉按已处理结案。",
    "The customer still disputes the compensation, but the corrective action is in place; the service "
    "manager follows up commercially and the complaint is settled.",
)
