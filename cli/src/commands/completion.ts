import type { CommandDef } from './context.js';

/** bash completion (zsh: autoload bashcompinit first); it asks nfluactl itself for candidates. */
export const COMPLETION_SCRIPT = `###-begin-nfluactl-completions-###
# nfluactl completion for bash; for zsh: autoload -U +X bashcompinit && bashcompinit
_nfluactl_completions() {
	local cur_word args type_list
	cur_word="\${COMP_WORDS[COMP_CWORD]}"
	args=("\${COMP_WORDS[@]}")
	type_list=$(nfluactl --get-yargs-completions "\${args[@]:1}" 2>/dev/null)
	# shellcheck disable=SC2207
	COMPREPLY=( $(compgen -W "\${type_list}" -- "\${cur_word}") )
	return 0
}
complete -o bashdefault -o default -F _nfluactl_completions nfluactl
###-end-nfluactl-completions-###
`;

export const completionCommand: CommandDef = {
	command: 'completion',
	describe: 'print a bash/zsh completion script',
	builder: (y) => y.example('$0 completion >> ~/.bashrc', '').example('$0 completion > /etc/bash_completion.d/nfluactl', ''),
	async *run() {
		yield { kind: 'text', text: COMPLETION_SCRIPT };
	},
};
