import type { Rule } from 'eslint';

export declare const stageOrderRule: Rule.RuleModule;
