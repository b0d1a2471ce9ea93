#include "textflag.h"

// func prefetchForWrite(addr unsafe.Pointer)
TEXT ·prefetchForWrite(SB), NOSPLIT, $0-8
	MOVQ addr+0(FP), AX
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08 // PREFETCHW (AX): the Go assembler has no mnemonic for it
	RET
