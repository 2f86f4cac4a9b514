"""One file per STAT stage: skills (Skill-Map, Missing-Skill-Profile), difficulty (Stage 1), select
(STAT-Sel and the selection baselines), synthesize (STAT-Syn, Embed-Syn), sft, grpo; plus the teacher
client and the offline oracle teacher. Only sft.py and grpo.py import TRL."""
